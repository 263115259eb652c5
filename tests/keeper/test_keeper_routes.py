"""Where takes sell, beyond one direct V2 pair: a Uniswap V2 path through WETH for WBTC (which
has no WBTC/USDC pair at all), and a Uniswap V3 pool (real v3-core and v3-periphery from npm)
quoted by QuoterV2 and sold through the UniswapV3Taker. The plan's pricing is checked against the
real router's own figures, and against a brute-force search."""

import math

import ape
import pytest
from ape.contracts import ContractContainer

from bots.keeper.routes import V2, V3, Quotes, RouteSpec, V2Path, quote_sizes
from bots.keeper.strategy import Auction, KickMode, Pool, best_sale_size, plan_take
from helpers import at, live_auctions, open_position
from scripts._deployment import add_liquidity, npm_artifact

ETH, BTC, USDC = 10**18, 10**8, 10**6
WAD = 10**18


@pytest.mark.unit
def test_a_path_is_priced_hop_by_hop_and_its_best_size_found_by_search():
    path = V2Path((Pool(50 * BTC, 750 * ETH), Pool(1_000 * ETH, 1_700_000 * USDC)))  # BTC $25,500 via ETH
    first, second = path.pools
    assert path.amount_out(BTC) == second.amount_out(first.amount_out(BTC))
    auction = Auction(1, 20_000 * WAD, 5 * BTC, 90_000 * USDC, BTC, USDC)  # $20,000 a BTC

    def profit(x):
        return path.amount_out(x) - -(-x * 20_000 * USDC // BTC)

    best = best_sale_size(path, auction)
    brute = max(range(0, 5 * BTC + 1, BTC // 1_000), key=profit)
    assert abs(best - brute) <= BTC // 1_000 and profit(best) >= profit(brute)
    plan = plan_take(auction, path, 1_000 * USDC, 50)
    assert plan is not None and plan.proceeds == path.amount_out(plan.collateral) and plan.profit > 0


@pytest.mark.unit
def test_a_sale_the_keeper_sent_moves_the_pairs_it_plans_against():
    """After a take sells along a route, the tick's later plans price the pairs as that sale left
    them: each hop's input added and output removed, the next sale paying less than the first."""
    pool = Pool(1_000 * 10**18, 2_000_000 * 10**6)
    first = pool.amount_out(10 * 10**18)
    after = pool.after_sale(10 * 10**18)
    assert (after.reserve_collateral, after.reserve_debt) == (1_010 * 10**18, 2_000_000 * 10**6 - first)
    assert after.amount_out(10 * 10**18) < first
    path = V2Path((Pool(500 * 10**8, 10_000 * 10**18), Pool(10_000 * 10**18, 20_000_000 * 10**6)))
    weth_out = path.pools[0].amount_out(10**8)
    moved = path.after_sale(10**8)
    assert moved.pools[0] == path.pools[0].after_sale(10**8)
    assert moved.pools[1] == path.pools[1].after_sale(weth_out)
    assert moved.amount_out(10**8) < path.amount_out(10**8)


@pytest.mark.unit
def test_quotes_never_promise_more_than_was_quoted():
    pool = Pool(1_000 * ETH, 1_700_000 * USDC)  # a concave curve to sample
    sizes = quote_sizes(40 * ETH)
    quotes = Quotes(tuple(sizes), tuple(pool.amount_out(x) for x in sizes))
    assert len(sizes) == 16 and sizes[-1] == 40 * ETH
    for x in (1, ETH // 3, 7 * ETH + 12_345, 33 * ETH, 40 * ETH, 41 * ETH, 10**30):
        assert quotes.amount_out(x) <= pool.amount_out(x)  # a chord lies under a concave curve
    assert quotes.amount_out(40 * ETH) == pool.amount_out(40 * ETH) and quotes.amount_out(0) == 0
    with pytest.raises(ValueError, match="one fee per hop"):
        RouteSpec(V3, ("0x" + "11" * 20, "0x" + "22" * 20))


def weth_auction(vault, weth, accounts, governor, eth_feed, keeper):
    """A 10 WETH / 14,000 USDC account kicked at ETH $1,700; returns the auction's id."""
    who = accounts[6]
    weth.mint(who, 10 * ETH, sender=governor)
    weth.approve(vault, 2**256 - 1, sender=who)
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)
    open_position(vault, who, weth, 10 * ETH, 14_000 * USDC)
    keeper.tick()
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    assert keeper.tick().kicked == [who.address.lower()]


def test_wbtc_sold_along_a_v2_path_through_weth(
    new_keeper, chain, vault, liquidator, usdc, weth, wbtc, accounts, governor, btc_feed, eth_feed, uniswap
):
    add_liquidity(uniswap["router"], governor, wbtc, weth, 50 * BTC, 750 * ETH)  # WBTC/WETH only
    assert uniswap["factory"].getPair(wbtc, usdc) == "0x" + "00" * 20  # no direct pair to sell on
    route = RouteSpec(V2, (wbtc.address, weth.address, usdc.address))
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, routes={wbtc.address: route})
    who = accounts[6]
    wbtc.mint(who, BTC, sender=governor)
    wbtc.approve(vault, 2**256 - 1, sender=who)
    btc_feed.setAnswer(30_000 * 10**8, sender=governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    vault.supplyCollateral(wbtc, BTC, who, sender=who)
    vault.borrow(20_000 * USDC, who, who, sender=who)
    keeper.tick()
    btc_feed.setAnswer(25_000 * 10**8, sender=governor)  # 20,000 against 25,000 x 0.75: under
    assert keeper.tick().kicked == [who.address.lower()]
    (auction_id,) = live_auctions(liquidator)

    at(chain, chain.blocks.head.timestamp + 900)
    btc_feed.setAnswer(25_000 * 10**8, sender=governor)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert report.taken == [auction_id] and report.profit > 0
    assert usdc.balanceOf(accounts[8]) >= report.profit // 2
    assert wbtc.balanceOf(uniswap["factory"].getPair(wbtc, weth)) > 50 * BTC  # sold into WBTC/WETH


@pytest.fixture
def uniswap_v3(project, governor, weth, usdc, uniswap, liquidator):
    """Real Uniswap V3 from npm: the factory, a WETH/USDC 0.3% pool at $1,700 holding 500 WETH
    and 850,000 USDC over the full range, SwapRouter, QuoterV2, and Gavel's UniswapV3Taker."""
    deploy = lambda package, name, *args: ContractContainer(npm_artifact(package, name)).deploy(  # noqa: E731
        *args, sender=governor
    )
    factory = deploy("@uniswap/v3-core", "UniswapV3Factory")
    weth9 = uniswap["weth9"]
    router = deploy("@uniswap/v3-periphery", "SwapRouter", factory, weth9)
    quoter = deploy("@uniswap/v3-periphery", "QuoterV2", factory, weth9)
    positions = deploy("@uniswap/v3-periphery", "NonfungiblePositionManager", factory, weth9, "0x" + "00" * 20)
    weth_first = int(weth.address, 16) < int(usdc.address, 16)
    token0, token1 = (weth, usdc) if weth_first else (usdc, weth)
    price = 1_700 * USDC / ETH if weth_first else ETH / (1_700 * USDC)  # token1 per token0, raw units
    positions.createAndInitializePoolIfNecessary(token0, token1, 3_000, int(math.sqrt(price) * 2**96), sender=governor)
    amounts = {weth.address: 500 * ETH, usdc.address: 850_000 * USDC}
    for token in (weth, usdc):
        token.mint(governor, amounts[token.address], sender=governor)
        token.approve(positions, 2**256 - 1, sender=governor)
    span = 887_220  # the widest ticks at a 60-tick spacing
    positions.mint(
        (token0, token1, 3_000, -span, span, amounts[token0.address], amounts[token1.address], 0, 0, governor, 2**40),
        sender=governor,
    )
    taker = project.UniswapV3Taker.deploy(liquidator, usdc, sender=governor)
    return {"taker_v3": taker, "uniswap_v3_router": router, "uniswap_v3_quoter": quoter, "factory": factory}


def test_weth_sold_on_a_v3_pool_quoted_by_quoterv2(
    new_keeper, chain, vault, liquidator, usdc, weth, accounts, governor, eth_feed, uniswap, uniswap_v3
):
    route = RouteSpec(V3, (weth.address, usdc.address), (3_000,))
    wired = {k: v for k, v in uniswap_v3.items() if k != "factory"}
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, routes={weth.address: route}, v3=wired)
    quoter = uniswap_v3["uniswap_v3_quoter"]
    quoted = quoter.quoteExactInput.call(route.v3_path(), ETH)[0]
    assert 1_680 * USDC < quoted < 1_700 * USDC  # the pool's price less its 0.3% fee and a little depth
    v2_reserves = uniswap["pair"].getReserves()[:2]

    weth_auction(vault, weth, accounts, governor, eth_feed, keeper)
    (auction_id,) = live_auctions(liquidator)
    at(chain, chain.blocks.head.timestamp + 900)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    report = keeper.tick()
    assert report.taken == [auction_id] and report.profit > 0
    assert usdc.balanceOf(accounts[8]) >= report.profit // 2
    (sold,) = uniswap_v3["taker_v3"].TakenAndSold.range(chain.blocks.head.number - 3, chain.blocks.head.number + 1)
    assert sold.id == auction_id and sold.profit >= report.profit // 2
    assert uniswap["pair"].getReserves()[:2] == v2_reserves  # the V2 pair was not touched


def test_the_v3_taker_checks_its_path_and_its_caller(
    new_keeper, vault, liquidator, usdc, weth, wbtc, accounts, governor, eth_feed, uniswap_v3
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    weth_auction(vault, weth, accounts, governor, eth_feed, keeper)
    (auction_id,) = live_auctions(liquidator)
    taker, router = uniswap_v3["taker_v3"], uniswap_v3["uniswap_v3_router"]
    wrong_start = RouteSpec(V3, (wbtc.address, usdc.address), (3_000,)).v3_path()
    with ape.reverts(taker.InvalidPath, first=wbtc.address, last=usdc.address):
        taker.takeAndSell(auction_id, ETH, 2**256 - 1, router, wrong_start, 0, sender=accounts[7])
    with ape.reverts(taker.InvalidPath):
        taker.takeAndSell(auction_id, ETH, 2**256 - 1, router, bytes.fromhex(weth.address[2:]), 0, sender=accounts[7])
    with ape.reverts(taker.UnexpectedCallback, caller=accounts[7].address):
        taker.onTake(taker, auction_id, weth, 1, 1, b"", sender=accounts[7])
