"""Keeper state: the SQLite mirror and checkpoint, and configuration. Pure (no chain)."""

import pytest

from bots.keeper.config import load_settings
from bots.keeper.errors import ConfigError, StoreError
from bots.keeper.store import Checkpoint, CollateralSet, DebtSet, Store, update_from_event
from bots.keeper.strategy import KickMode

pytestmark = pytest.mark.unit

VAULT = "0x" + "ab" * 20
ALICE, BOB, WETH = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "0e" * 20


def test_updates_and_checkpoint_survive_a_restart(tmp_path):
    path = tmp_path / "keeper.sqlite"
    store = Store(path, 31337, VAULT, start_block=5)
    assert store.checkpoint() is None and store.next_block() == 5
    huge = 2**200  # beyond SQLite's integers
    store.apply([CollateralSet(ALICE, WETH, huge), DebtSet(ALICE, 7), DebtSet(BOB, 9)], Checkpoint(10, "0xaa"))
    store.apply([DebtSet(ALICE, 3)], Checkpoint(11, "0xbb"))  # events overwrite: the latest wins
    store.close()

    reopened = Store(path, 31337, VAULT, start_block=5)
    assert reopened.checkpoint() == Checkpoint(11, "0xbb") and reopened.next_block() == 12
    assert reopened.positions() == {ALICE.lower(): ({WETH.lower(): huge}, 3), BOB.lower(): ({}, 9)}


def test_a_failed_apply_changes_nothing(tmp_path):
    store = Store(tmp_path / "k.sqlite", 1, VAULT, 0)
    store.apply([DebtSet(ALICE, 1)], Checkpoint(1, "0x01"))
    with pytest.raises(StoreError, match="not a mirror update"):
        store.apply([DebtSet(ALICE, 2), "garbage"], Checkpoint(2, "0x02"))
    assert store.positions() == {ALICE.lower(): ({}, 1)} and store.checkpoint() == Checkpoint(1, "0x01")
    with pytest.raises(StoreError, match="move back"):
        store.apply([], Checkpoint(0, "0x00"))


def test_another_deployments_database_is_refused(tmp_path):
    path = tmp_path / "k.sqlite"
    Store(path, 1, VAULT, 0).close()
    with pytest.raises(StoreError, match="chain_id is 1 not 5"):
        Store(path, 5, VAULT, 0)
    with pytest.raises(StoreError, match="vault is"):
        Store(path, 1, "0x" + "cd" * 20, 0)
    (tmp_path / "junk.sqlite").write_text("not a database")
    with pytest.raises(StoreError, match="not a usable keeper database"):
        Store(tmp_path / "junk.sqlite", 1, VAULT, 0)


def test_sent_transactions_are_remembered(tmp_path):
    store = Store(tmp_path / "k.sqlite", 1, VAULT, 0)
    assert store.sent("kick", ALICE) is None
    store.record_sent("kick", ALICE, "0xfeed", nonce=4, block=100)
    assert store.sent("kick", ALICE.upper().replace("0X", "0x")) == ("0xfeed", 4, 100)
    store.forget_sent("kick", ALICE)
    assert store.sent("kick", ALICE) is None


def test_events_map_to_updates():
    assert update_from_event("CollateralSeized", {"account": ALICE, "asset": WETH, "balance": 5}) == CollateralSet(
        ALICE, WETH, 5
    )
    assert update_from_event("Liquidated", {"account": ALICE, "scaledDebt": 0}) == DebtSet(ALICE, 0)
    assert update_from_event("InterestAccrued", {"borrowIndex": 1}) is None


def test_config_file_env_and_flags(tmp_path, monkeypatch):
    path = tmp_path / "keeper.toml"
    path.write_text('kick_mode = "always"\nconfirmations = 5\nmax_fee_gwei = 50\n')
    monkeypatch.setenv("GAVEL_KEEPER_CONFIRMATIONS", "7")
    settings = load_settings(path, max_fee_gwei=80.0, account=None)
    assert settings.kick_mode is KickMode.ALWAYS  # from the file
    assert settings.confirmations == 7  # the environment beats the file
    assert settings.max_fee_gwei == 80.0  # a flag beats both
    assert settings.account is None


def test_bad_config_names_the_key(tmp_path):
    path = tmp_path / "keeper.toml"
    path.write_text("confirmations = -1\n")
    with pytest.raises(ConfigError, match="config key 'confirmations'"):
        load_settings(path)
    path.write_text('kick_mood = "always"\n')
    with pytest.raises(ConfigError, match="config key 'kick_mood'"):
        load_settings(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    path.write_text("confirmations = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)
