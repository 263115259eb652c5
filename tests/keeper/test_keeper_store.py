"""Keeper state: the SQLite mirror and checkpoint, and configuration. Pure (no chain)."""

import pytest

from bots.keeper.config import load_settings
from bots.keeper.errors import ConfigError, StoreError
from bots.keeper.store import PENDING, Checkpoint, CollateralSet, DebtSet, SentTx, Store, update_from_event
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


def test_a_mirror_of_an_earlier_chain_at_the_same_vault_is_rebuilt_from_the_new_start_block(tmp_path, caplog):
    """Anvil restarted and Gavel redeployed at its deterministic addresses from another block: the
    old file neither blocks the keeper nor lends it the old chain's accounts or transactions."""
    path = tmp_path / "k.sqlite"
    old = Store(path, 1, VAULT, 148)
    old.apply([DebtSet(ALICE, 5)], Checkpoint(150, "0xaa"))
    old.record_sent(SentTx(4, "kick", ALICE, ("0xfeed",), 30, 2, 150, 0, PENDING, VAULT, "0x01", 600_000))
    old.close()

    with caplog.at_level("WARNING", logger="gavel.keeper.store"):
        store = Store(path, 1, VAULT, 27)
    (warning,) = caplog.records
    assert f"{path} is of an earlier chain (start_block is 148 not 27)" in warning.getMessage()
    assert store.next_block() == 27 and store.checkpoint() is None and store.positions() == {}
    assert store.pending() == [] and store.pending_for("kick", ALICE) is None  # sent to a chain that is gone
    store.close()
    caplog.clear()
    Store(path, 1, VAULT, 27).close()  # the file is now the new deployment's
    assert not caplog.records


def test_the_outbox_survives_a_restart_and_tracks_replacements(tmp_path):
    store = Store(tmp_path / "k.sqlite", 1, VAULT, 0)
    assert store.pending_for("kick", ALICE) is None and store.pending() == []
    store.record_sent(SentTx(4, "kick", ALICE, ("0xfeed",), 30, 2, 100, 0, PENDING, VAULT, "0x01", 600_000))
    store.record_sent(SentTx(5, "take", "7", ("0xbeef",), 30, 2, 100, 123, PENDING, VAULT, "0x02", 900_000))
    store.close()
    store = Store(tmp_path / "k.sqlite", 1, VAULT, 0)  # a restart finds both still pending
    kick = store.pending_for("kick", ALICE.upper().replace("0X", "0x"))
    assert kick is not None and (kick.nonce, kick.hashes, kick.block) == (4, ("0xfeed",), 100)
    bumped = store.replaced(4, "0xfade", 34, 3, 103)
    assert bumped.hashes == ("0xfeed", "0xfade") and (bumped.max_fee, bumped.priority_fee) == (34, 3)
    assert store.pending_for("kick", ALICE) == bumped
    store.settle(4, "mined")
    assert store.pending_for("kick", ALICE) is None
    assert [tx.nonce for tx in store.pending()] == [5] and store.pending()[0].expected_profit == 123
    with pytest.raises(StoreError, match="no transaction with nonce 9"):
        store.replaced(9, "0x00", 1, 1, 1)


def test_markets_share_the_signers_outbox(tmp_path):
    """Two markets' mirrors in two files, one outbox (in the first): nonces and in-flight
    transactions are the signer's, a target is a market's own."""
    other_vault = "0x" + "cd" * 20
    first = Store(tmp_path / "usdc.sqlite", 1, VAULT, 0)
    second = Store(tmp_path / "dai.sqlite", 1, other_vault, 0, outbox=tmp_path / "usdc.sqlite")
    first.record_sent(SentTx(4, "take", "7", ("0xfeed",), 30, 2, 100, 0, PENDING, VAULT, "0x01", 600_000))
    second.record_sent(SentTx(5, "take", "7", ("0xbeef",), 30, 2, 100, 0, PENDING, other_vault, "0x02", 600_000))
    for store in (first, second):
        assert [(tx.nonce, tx.market) for tx in store.pending()] == [(4, VAULT), (5, other_vault)]
    assert first.pending_for("take", "7").nonce == 4 and second.pending_for("take", "7").nonce == 5
    second.apply([DebtSet(ALICE, 1)], Checkpoint(1, "0x01"))
    assert first.positions() == {} and first.checkpoint() is None  # the mirrors stay apart
    second.settle(4, "mined")  # either may settle the signer's transactions
    assert [tx.nonce for tx in first.pending()] == [5]
    second.close()
    reopened = Store(tmp_path / "dai.sqlite", 1, other_vault, 0, outbox=tmp_path / "usdc.sqlite")
    assert reopened.pending_targets("take") == {"7"} and first.pending_targets("take") == set()


def test_events_map_to_updates():
    assert update_from_event("CollateralSeized", {"account": ALICE, "collateral": WETH, "balance": 5}) == CollateralSet(
        ALICE, WETH, 5
    )
    assert update_from_event("Liquidated", {"account": ALICE, "scaledDebt": 0}) == DebtSet(ALICE, 0)
    # An account whose last auction ended with nothing left: its debt realised, the mirror's at zero.
    assert update_from_event("DebtRealized", {"account": ALICE, "amount": 7, "scaledDebt": 0}) == DebtSet(ALICE, 0)
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
