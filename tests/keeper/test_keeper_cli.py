"""The keeper's command line refuses bad input with one clear message naming what is wrong.
No chain: every case fails before connecting."""

import pytest

from bots.keeper.__main__ import main
from bots.keeper.config import load_settings

pytestmark = pytest.mark.unit


def run(capsys, *argv):
    code = main(["run", *argv])
    return code, capsys.readouterr().err


def test_unknown_network_names_the_key(capsys):
    code, err = run(capsys, "--network", "ethereum:nowhere:foo")
    assert code == 2 and "config key 'network': unknown network 'ethereum:nowhere:foo'" in err
    assert "Traceback" not in err


def test_the_default_network_is_the_local_node_and_a_throw_away_chain_is_refused(capsys, monkeypatch, tmp_path):
    """`make keeper` and `make status` with no ARGS serve the README's node (chain 1337, port
    8545); ethereum:local:foundry would start an Anvil of its own, with no Gavel on it."""
    assert load_settings().network == "ethereum:local:node"
    for choice in ("ethereum:local:foundry", "ethereum:local"):
        code, err = run(capsys, "--network", choice)
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert f"config key 'network': {choice!r} starts a throw-away Anvil" in err
        assert "ethereum:local:node" in err


def test_missing_deployments_file_says_what_to_run(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GAVEL_KEEPER_DEPLOYMENTS", str(tmp_path / "none.json"))
    code, err = run(capsys, "--network", "ethereum:local:node")
    assert code == 2 and "no deployments file" in err and "run `ape run deploy --network" in err


def test_bad_config_key_is_named(capsys, tmp_path):
    config = tmp_path / "keeper.toml"
    config.write_text('kick_mood = "always"\n')
    code, err = run(capsys, "--config", str(config))
    assert code == 2 and "config key 'kick_mood'" in err
    config.write_text("max_fee_gwei = -1\n")
    code, err = run(capsys, "--config", str(config))
    assert code == 2 and "config key 'max_fee_gwei'" in err


def test_account_is_required_off_local_chains(tmp_path):
    from bots.keeper.config import load_settings
    from bots.keeper.errors import ConfigError
    from bots.keeper.runner import signer_for

    with pytest.raises(ConfigError, match="config key 'account': required on 'ethereum:mainnet:node'"):
        signer_for(load_settings(network="ethereum:mainnet:node"), accounts=None)


def test_a_misspelled_environment_variable_is_named(capsys, monkeypatch):
    monkeypatch.setenv("GAVEL_KEEPER_KICKS_PER_TIK", "5")
    code, err = run(capsys, "--network", "ethereum:local:node")
    assert code == 2 and "environment variable GAVEL_KEEPER_KICKS_PER_TIK: no such setting" in err
    assert "GAVEL_KEEPER_KICKS_PER_TICK" in err and len(err.strip().splitlines()) == 1


def test_a_node_that_is_not_there_is_one_line(capsys, monkeypatch, tmp_path):
    from bots.keeper.deployments import DeploymentRecord
    from processes import free_port

    record = tmp_path / "deployments.json"
    names = ("vault", "liquidator", "oracle", "insurance_fund", "usdc", "taker", "uniswap_factory", "uniswap_router")
    DeploymentRecord("ethereum:local", 1337, 1, dict.fromkeys(names, "0x" + "11" * 20)).write(record)
    monkeypatch.setenv("GAVEL_KEEPER_DEPLOYMENTS", str(record))
    port = free_port()  # nothing listens there
    code, err = run(capsys, "--network", f"ethereum:local:http://127.0.0.1:{port}")
    assert code == 2 and f"cannot reach the node for ethereum:local:http://127.0.0.1:{port}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--ticks", "-3"], "argument --ticks: -3 is below 1"),
        (["run", "--ticks", "0"], "argument --ticks: 0 is below 1"),
        (["status", "--top", "x"], "argument --top: 'x' is not a whole number"),
    ],
)
def test_a_count_below_one_is_refused_before_anything_else(capsys, argv, named):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and named in err and "deployments" not in err
