"""Markets files: the shipped mainnet file is valid, a bad one is refused naming the key, and a
deployment from a markets file lists exactly what the file says."""

from pathlib import Path

import pytest

from conftest import WAD
from scripts._deployment import DeploymentError, ProtocolConfig
from scripts._markets import MARKETS_DIR, deploy_markets, load_markets, markets_path, spec_for

GOOD = """
[debt]
symbol = "USDC"
address = "{usdc}"
feeds = ["{usdc_feed}"]
heartbeat = 86400

[uniswap_v2]
factory = "{factory}"
router = "{router}"

[[collateral]]
symbol = "WETH"
address = "{weth}"
feeds = ["{eth_feed}"]
heartbeat = 3600
max_ltv = "0.70"
liquidation_threshold = "0.78"
lot_cap = 250000
"""


@pytest.mark.unit
def test_the_shipped_mainnet_file_is_valid_and_forks_read_it():
    assert markets_path("ethereum:mainnet-fork:foundry") == markets_path("ethereum:mainnet:node")
    markets = load_markets(MARKETS_DIR / "ethereum-mainnet.toml")
    (weth,) = markets.collateral
    spec = spec_for(weth, 18)
    assert (spec.max_ltv, spec.liquidation_threshold, spec.penalty) == (80 * WAD // 100, 85 * WAD // 100, WAD // 20)
    assert spec.heartbeat == 3600 and spec.buf == WAD  # not in the file: the default


@pytest.mark.unit
@pytest.mark.parametrize(
    "change, named",
    [
        (("max_ltv", "maxltv"), "key 'collateral.0.maxltv'"),
        (('address = "{weth}"', 'address = "0x1234"'), "key 'collateral.0.address'"),
        (('feeds = ["{eth_feed}"]', 'feeds = ["nope"]'), "key 'collateral.0.feeds'"),
        (("heartbeat = 3600", "heartbeat = 0"), "key 'collateral.0.heartbeat'"),
        (("[uniswap_v2]", "[uniswap]"), "key 'uniswap'"),
    ],
)
def test_a_bad_key_is_named(tmp_path, change, named):
    text = GOOD.replace(*change).format(**{k: "0x" + "11" * 20 for k in ("usdc", "usdc_feed", "factory", "router",
                                                                          "weth", "eth_feed")})  # fmt: skip
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(DeploymentError, match=named.replace(".", r"\.")):
        load_markets(path)


@pytest.mark.unit
def test_a_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(DeploymentError, match="no markets file .* write one"):
        load_markets(Path(tmp_path / "none.toml"))


def test_deploying_from_a_markets_file(tmp_path, project, governor, guardian, usdc, usdc_feed, weth, eth_feed, uniswap):
    path = tmp_path / "m.toml"
    path.write_text(
        GOOD.format(
            usdc=usdc.address, usdc_feed=usdc_feed.address, weth=weth.address, eth_feed=eth_feed.address,
            factory=uniswap["factory"].address, router=uniswap["router"].address,
        )
    )  # fmt: skip
    c = deploy_markets(project, governor, guardian, load_markets(path), ProtocolConfig())
    assert list(c["vault"].collateralTokens()) == [weth.address]
    # The Vault's kick module is recorded beside it, built for the same token, oracle and fund.
    assert c["vault_liquidation"].builtFor(usdc, c["oracle"], c["insurance_fund"])
    params = c["vault"].collateralParams(weth)
    assert (params.maxLtv, params.liquidationThreshold) == (70 * WAD // 100, 78 * WAD // 100)
    assert params.lotCap == 250_000 * 10**6  # whole USDC, in USDC's 6 decimals
    price, status = c["oracle"].peek(weth)
    assert status == 0 and price == eth_feed.latestRoundData()[1] * 10**10
    assert c["taker"].liquidator() == c["liquidator"].address
    assert c["uniswap_router"].address == uniswap["router"].address


def test_an_address_without_code_stops_the_deploy_before_anything_is_sent(
    tmp_path, project, governor, guardian, usdc, usdc_feed, weth, uniswap
):
    nowhere = "0x" + "5a" * 20  # well formed, but no contract there
    path = tmp_path / "m.toml"
    path.write_text(
        GOOD.format(
            usdc=usdc.address, usdc_feed=usdc_feed.address, weth=weth.address, eth_feed=nowhere,
            factory=uniswap["factory"].address, router=uniswap["router"].address,
        )
    )  # fmt: skip
    nonce = governor.nonce
    with pytest.raises(DeploymentError, match=r"no contract at collateral\[0\]\.feeds\[0\] \(WETH\) = 0x5[aA]"):
        deploy_markets(project, governor, guardian, load_markets(path), ProtocolConfig())
    assert governor.nonce == nonce  # nothing was sent
