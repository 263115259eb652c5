"""One keeper process, several markets: two Gavel deployments with different debt assets (USDC
with 6 decimals, a DAI with 18) from one settings file, one signer. A crash puts accounts under
in both; every kick is sent once, no nonce twice, and the signer's outbox (in the first market's
file) holds both markets' transactions. Gas is priced from the native asset's oracle price over
each market's own debt price."""

import sqlite3
from pathlib import Path

import pytest

from bots.keeper.config import load_settings
from bots.keeper.deployments import DeploymentRecord
from bots.keeper.errors import ConfigError
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.runner import Loop, build_keepers
from helpers import open_position
from scripts._deployment import ProtocolConfig, deploy_protocol, list_collateral

ETH, USDC, DAI = 10**18, 10**6, 10**18


@pytest.fixture
def dai_market(project, chain, governor, guardian, weth, eth_feed, uniswap, accounts):
    """A second Gavel, lending an 18-decimal DAI against the same WETH and ETH feed."""
    dai = project.MockERC20.deploy("Dai", "DAI", 18, sender=governor)
    dai_feed = project.MockAggregator.deploy(8, "DAI / USD", 10**8, sender=governor)
    config = ProtocolConfig()
    market = deploy_protocol(project, governor, governor, guardian, dai, config)
    market["oracle"].setSources(dai, [dai_feed], [86_400], 1, config.max_deviation, sender=governor)
    list_collateral(market, governor, weth, [eth_feed], config.collaterals[0], config, DAI)
    lender = accounts[9]
    dai.mint(lender, 1_000_000 * DAI, sender=governor)
    dai.approve(market["vault"], 2**256 - 1, sender=lender)
    market["vault"].deposit(1_000_000 * DAI, lender, sender=lender)
    market["taker"] = project.UniswapV2Taker.deploy(market["liquidator"], dai, sender=governor)
    market.update(debt_asset=dai, uniswap_factory=uniswap["factory"], uniswap_router=uniswap["router"], weth=weth)
    return market


def write_record(path, chain, start, contracts):
    addresses = {name: str(c.address) for name, c in contracts.items()}
    DeploymentRecord("ethereum:local", chain.chain_id, start, addresses).write(path)


def test_one_keeper_serves_two_markets_with_one_signer(
    tmp_path, project, chain, accounts, governor, vault, liquidator, oracle, fund, usdc, weth, eth_feed, uniswap,
    dai_market,
):  # fmt: skip
    start = chain.blocks.head.number + 1
    usdc_taker = project.UniswapV2Taker.deploy(liquidator, usdc, sender=governor)
    usdc_market = {
        "vault": vault, "liquidator": liquidator, "oracle": oracle, "insurance_fund": fund, "debt_asset": usdc,
        "taker": usdc_taker, "uniswap_factory": uniswap["factory"], "uniswap_router": uniswap["router"], "weth": weth,
    }  # fmt: skip
    write_record(tmp_path / "usdc.json", chain, start, usdc_market)
    write_record(tmp_path / "dai.json", chain, start, dai_market)
    settings_file = tmp_path / "keeper.toml"
    settings_file.write_text(
        f"""
kick_mode = "always"
confirmations = 0

[[markets]]
deployments = "{tmp_path / "usdc.json"}"
database = "{tmp_path / "usdc.sqlite"}"
name = "usdc"

[[markets]]
deployments = "{tmp_path / "dai.json"}"
database = "{tmp_path / "dai.sqlite"}"
name = "dai"
"""
    )
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    people = {"usdc": [], "dai": []}
    for who, name, market, scale in (
        (accounts[5], "usdc", vault, USDC),
        (accounts[6], "dai", dai_market["vault"], DAI),
        (accounts[7], "dai", dai_market["vault"], DAI),
    ):
        weth.mint(who, 10 * ETH, sender=governor)
        weth.approve(market, 2**256 - 1, sender=who)
        open_position(market, who, weth, 10 * ETH, 14_000 * scale)
        people[name].append(who.address.lower())

    settings = load_settings(settings_file, network="ethereum:local:foundry")
    signer = accounts[8]
    keepers = build_keepers(settings, project, chain, accounts, signer=signer)
    assert [k.name for k in keepers] == ["usdc", "dai"]
    # Gas is priced per market: WETH's price over the market's own debt price, in its units.
    for keeper in keepers:
        keeper.tick()  # the mirrors catch up
    assert [k._native_price_in_debt() for k in keepers] == [2_000 * ETH, 2_000 * ETH]
    first_nonce = signer.nonce

    eth_feed.setAnswer(1_500 * 10**8, sender=governor)  # 14,000 against 15,000 x 0.8: under, everywhere
    reports, metrics = {}, KeeperMetrics()
    loop = Loop(keepers, metrics, poll_seconds=0)  # the CLI's loop: every market in turn, then it closes them
    loop.run(ticks=1, on_tick=lambda r: reports.setdefault(len(reports), r))
    assert reports[0].kicked == people["usdc"] and reports[1].kicked == people["dai"]
    assert liquidator.kicks() == 1 and dai_market["liquidator"].kicks() == 2
    for name in ("usdc", "dai"):
        assert metrics.registry.get_sample_value("gavel_keeper_kicks_total", {"market": name}) == len(people[name])

    # One outbox, in the first market's file: each kick once, no nonce twice, in both markets.
    with sqlite3.connect(tmp_path / "usdc.sqlite") as db:
        outbox = db.execute("SELECT nonce, kind, target, market FROM outbox ORDER BY nonce").fetchall()
    kicks = [(target, market) for _, kind, target, market in outbox if kind == "kick"]
    assert sorted(kicks) == sorted(
        [(p, str(vault.address).lower()) for p in people["usdc"]]
        + [(p, str(dai_market["vault"].address).lower()) for p in people["dai"]]
    )
    nonces = [n for n, *_ in outbox]
    assert len(set(nonces)) == len(nonces) and nonces[0] == first_nonce
    assert signer.nonce == first_nonce + len(nonces)  # every recorded nonce was mined, none skipped
    with sqlite3.connect(tmp_path / "dai.sqlite") as db:
        dai_tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "outbox" not in dai_tables and "debt" in dai_tables  # its own mirror, the shared outbox

    # A restart: nothing is kicked again in either market.
    again = build_keepers(settings, project, chain, accounts, signer=signer)
    assert [k.tick().kicked for k in again] == [[], []]
    with sqlite3.connect(tmp_path / "usdc.sqlite") as db:
        after = db.execute("SELECT nonce, kind FROM outbox ORDER BY nonce").fetchall()
    assert [kind for _, kind in after].count("kick") == 3 and len({n for n, _ in after}) == len(after)
    assert signer.nonce == first_nonce + len(after)  # claims of the incentives, at the next nonces


@pytest.mark.unit
def test_markets_need_their_own_database_and_name(tmp_path):
    settings_file = tmp_path / "keeper.toml"
    settings_file.write_text(
        '[[markets]]\ndeployments = "a.json"\ndatabase = "k.sqlite"\n'
        '[[markets]]\ndeployments = "b.json"\ndatabase = "k.sqlite"\n'
    )
    with pytest.raises(ConfigError, match="each market needs its own database and name"):
        load_settings(settings_file)
    settings_file.write_text(
        '[[markets]]\ndeployments = "a.json"\nroutes = { weth = { uniswap_v3_path = ["weth"] } }\n'
    )
    with pytest.raises(ConfigError, match="markets.0.routes.weth.*alternates tokens and fees"):
        load_settings(settings_file)
    settings_file.write_text('[[markets]]\ndeployments = "a.json"\nbogus = 1\n')
    with pytest.raises(ConfigError, match="markets.0.bogus"):
        load_settings(settings_file)


@pytest.mark.unit
def test_the_example_settings_file_is_valid():
    settings = load_settings(Path(__file__).parents[2] / "bots" / "keeper-markets.example.toml")
    usdc, dai = settings.market_list()
    assert (usdc.label, dai.label) == ("usdc", "dai")
    assert usdc.routes["wbtc"].uniswap_v2_path == ["wbtc", "weth", "usdc"]
    assert dai.routes["weth"].uniswap_v3_path == ["weth", 500, "dai"]
