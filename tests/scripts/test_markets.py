"""Markets files: the shipped mainnet file is valid, a bad one is refused naming the key, and a
deployment from a markets file lists exactly what the file says."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import WAD
from scripts._deployment import ROOT, DeploymentError, ProtocolConfig
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


SECOND = """
[[collateral]]
symbol = "{symbol}"
address = "{address}"
feeds = ["{feed}"]
heartbeat = 3600
"""


def _write(tmp_path, addresses: dict[str, str], change: tuple[str, str] = ("", ""), extra: str = "") -> Path:
    path = tmp_path / "m.toml"
    path.write_text(GOOD.replace(*change).format(**addresses) + extra)
    return path


# Each bad file, and the words of the one line that refuses it (before any transaction).
BAD_FILES = {
    "threshold over 1": (
        ('liquidation_threshold = "0.78"', 'liquidation_threshold = "1.5"'), "",
        r"collateral\[0\]\.liquidation_threshold \(WETH\) = 1\.5 is outside 0\.05\.\.0\.95",
    ),
    "penalty the threshold cannot cover": (
        ('max_ltv = "0.70"', 'max_ltv = "0.70"\npenalty = "0.30"'), "",
        r"collateral\[0\]\.penalty \(WETH\) = 0\.3 is outside 0\.01\.\.0\.25",
    ),
    "max ltv over the threshold": (
        ('max_ltv = "0.70"', 'max_ltv = "0.80"'), "", r"collateral\[0\]\.max_ltv \(WETH\) = 0\.8 is outside 0\.\.0\.78"
    ),
    "heartbeat over the oracle's": (
        ("heartbeat = 3600", "heartbeat = 300000"), "", r"collateral\[0\]\.heartbeat \(WETH\) = 300000 is outside"
    ),
    "quorum over the feeds": (
        ("lot_cap = 250000", "lot_cap = 250000\nquorum = 2"), "",
        r"collateral\[0\]\.quorum \(WETH\) = 2 is outside 1\.\.1",
    ),
    "a token as a feed": (
        ('feeds = ["{eth_feed}"]', 'feeds = ["{weth}"]'), "",
        r"collateral\[0\]\.feeds\[0\] \(WETH\) = 0x\w+ is not a price feed",
    ),
    "a feed as a token": (
        ('address = "{weth}"', 'address = "{eth_feed}"'), "",
        r"collateral\[0\]\.address \(WETH\) = 0x\w+ is not a token",
    ),
    "a token listed twice": (
        ("", ""), SECOND.format(symbol="WETH2", address="{weth}", feed="{eth_feed}"),
        r"collateral\[1\]\.address \(WETH2\) = 0x\w+ repeats collateral\[0\]\.address \(WETH\)",
    ),
    "a symbol listed twice": (
        ("", ""), SECOND.format(symbol="weth", address="{wbtc}", feed="{btc_feed}"),
        r"collateral\[1\]\.symbol = weth repeats collateral\[0\]\.symbol",
    ),
    "the debt token as collateral": (
        ('address = "{weth}"', 'address = "{usdc}"'), "",
        r"collateral\[0\]\.address \(WETH\) = 0x\w+ repeats debt\.address"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_markets_file_is_refused_in_one_line_before_anything_is_sent(
    case, tmp_path, project, governor, guardian, usdc, usdc_feed, weth, eth_feed, wbtc, btc_feed, uniswap
):
    change, extra, named = BAD_FILES[case]
    addresses = {
        "usdc": usdc.address, "usdc_feed": usdc_feed.address, "weth": weth.address, "eth_feed": eth_feed.address,
        "wbtc": wbtc.address, "btc_feed": btc_feed.address,
        "factory": uniswap["factory"].address, "router": uniswap["router"].address,
    }  # fmt: skip
    path = _write(tmp_path, addresses, change, extra.format(**addresses))
    nonce = governor.nonce
    with pytest.raises(DeploymentError, match=named) as refused:
        deploy_markets(project, governor, guardian, load_markets(path), ProtocolConfig())
    assert "\n" not in str(refused.value)
    assert governor.nonce == nonce  # nothing was sent


@pytest.mark.parametrize(
    "answer, age, named",
    [
        (0, 0, "answers 0, not a positive price"),
        (-5, 0, "answers -5, not a positive price"),
        (2_000 * 10**8, 4_000, r"is stale: its answer is 400\d s old, over the heartbeat of 3600 s"),
    ],
)
def test_a_feed_that_answers_no_good_price_is_refused_before_anything_is_sent(
    answer, age, named, tmp_path, chain, project, governor, guardian, usdc, usdc_feed, weth, uniswap
):
    feed = project.MockAggregator.deploy(8, "ETH / USD", 2_000 * 10**8, sender=governor)
    feed.setAnswerAt(answer, chain.blocks.head.timestamp - age, sender=governor)
    path = _write(
        tmp_path,
        {"usdc": usdc.address, "usdc_feed": usdc_feed.address, "weth": weth.address, "eth_feed": feed.address,
         "factory": uniswap["factory"].address, "router": uniswap["router"].address},
    )  # fmt: skip
    nonce = governor.nonce
    with pytest.raises(DeploymentError, match=rf"collateral\[0\]\.feeds\[0\] \(WETH\) = 0x\w+ {named}"):
        deploy_markets(project, governor, guardian, load_markets(path), ProtocolConfig())
    assert governor.nonce == nonce


@pytest.mark.parametrize(
    "markets, named",
    [
        ("none.toml", r"^Error: no markets file .*none\.toml"),
        # mainnet's tokens are not on a fresh local chain: honoured, so refused, never ignored
        (str(MARKETS_DIR / "ethereum-mainnet.toml"), r"^Error: no contract at .*debt\.address = 0xA0b8"),
    ],
)
def test_deploy_on_a_local_chain_honours_markets_and_refuses_a_bad_file_in_one_line(tmp_path, markets, named):
    ape = Path(sys.executable).parent / "ape"
    run = subprocess.run(
        [str(ape), "run", "deploy", "--network", "ethereum:local:foundry", "--markets", str(tmp_path / markets)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line or "Traceback" in line]
    assert run.returncode != 0 and len(errors) == 1, run.stdout + run.stderr
    assert re.search(named, errors[0]) and "Gavel deployed" not in run.stdout
