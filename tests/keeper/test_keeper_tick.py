"""One keeper tick under pressure, against Anvil: a failure on one account or auction is logged and
counted and the rest of the tick goes on; kicks come largest value at risk first within a
budget; takes are not starved by kicks; a tick out of time hands the rest to the next one; a
block that arrives mid-tick is skipped, not queued. The tick's time limit is tested at zero
seconds (always exceeded), never against the wall clock."""

from bots.keeper.strategy import KickMode
from helpers import at, live_auctions, open_position

USDC = 10**6
ETH = 10**18


def two_unhealthy(vault, weth, accounts, governor, eth_feed):
    """Two accounts pushed under by ETH falling to 1,600: accounts[6] with $900 at risk (13,700
    against 10 WETH), accounts[7] with $1,880 (19,800 against 14 WETH). Returns (small, large)."""
    small, large = accounts[6], accounts[7]
    eth_feed.setAnswer(2_000 * 10**8, sender=governor)  # both open at ETH 2,000
    for who, collateral, debt in ((small, 10 * ETH, 13_700), (large, 14 * ETH, 19_800)):
        weth.mint(who, collateral, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=who)
        open_position(vault, who, weth, collateral, debt * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)
    return small.address.lower(), large.address.lower()


def test_one_failing_kick_does_not_stop_the_others(
    new_keeper,
    vault,
    weth,
    accounts,
    governor,
    eth_feed,
    liquidator,
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    small, large = two_unhealthy(vault, weth, accounts, governor, eth_feed)
    real = keeper._kick_pays

    def flaky(account, gas):
        if account == large:
            raise ConnectionError("the node dropped the request")
        return real(account, gas)

    keeper._kick_pays = flaky
    report = keeper.tick()
    assert report.unhealthy == [large, small]  # largest value at risk first
    assert report.kicked == [small]
    assert report.errors == [f"kick {large}: ConnectionError: the node dropped the request"]

    keeper._kick_pays = real
    assert keeper.tick().kicked == [large]  # the next tick picks it up


def test_a_failing_screen_still_lets_auctions_be_taken(
    new_keeper,
    chain,
    vault,
    weth,
    accounts,
    governor,
    eth_feed,
    liquidator,
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS)
    two_unhealthy(vault, weth, accounts, governor, eth_feed)
    assert len(keeper.tick().kicked) == 2
    at(chain, chain.blocks.head.timestamp + 900)  # the price decays below the pool's
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)

    def broken(state, report):
        raise TimeoutError("oracle call timed out")

    keeper._screen = broken
    report = keeper.tick()
    assert report.errors == ["screen book: TimeoutError: oracle call timed out"]
    assert len(report.taken) == 2 and live_auctions(liquidator) == []


def test_kicks_within_budget_largest_first_and_takes_alongside(
    new_keeper,
    chain,
    vault,
    weth,
    accounts,
    governor,
    eth_feed,
    liquidator,
    borrower,
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, kicks_per_tick=1, takes_per_tick=1)
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_600 * 10**8, sender=governor)  # deep: one kick takes the whole debt
    assert keeper.tick().kicked == [borrower.address.lower()]
    (auction_id,) = live_auctions(liquidator)
    at(chain, chain.blocks.head.timestamp + 900)
    small, large = two_unhealthy(vault, weth, accounts, governor, eth_feed)

    report = keeper.tick()  # a crash: two kicks wanted, one allowed, and the live auction's take
    assert report.kicked == [large] and report.taken == [auction_id]
    assert report.deferred == 1
    assert keeper.tick().kicked == [small]


def test_a_tick_out_of_time_hands_the_rest_over(
    new_keeper,
    vault,
    weth,
    accounts,
    governor,
    eth_feed,
    liquidator,
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, tick_seconds=0)
    two_unhealthy(vault, weth, accounts, governor, eth_feed)
    report = keeper.tick()
    assert report.kicked == [] and report.deferred == 2 and liquidator.kicks() == 0


def test_a_block_arriving_mid_tick_is_skipped_not_queued(new_keeper, accounts):
    keeper = new_keeper(accounts[8])
    keeper._tick_lock.acquire()  # a tick is running
    try:
        assert keeper.tick(wait=False).skipped
    finally:
        keeper._tick_lock.release()
    assert not keeper.tick(wait=False).skipped


def test_the_auction_walk_reads_a_bounded_number_per_tick(
    new_keeper,
    vault,
    weth,
    accounts,
    governor,
    eth_feed,
    liquidator,
    monkeypatch,
):
    keeper = new_keeper(accounts[8], kick_mode=KickMode.ALWAYS, auctions_per_tick=1)
    two_unhealthy(vault, weth, accounts, governor, eth_feed)
    keeper.tick()
    ids = sorted(live_auctions(liquidator))
    assert len(ids) == 2
    calls = []
    real = keeper.c.liquidator.auctionViews

    class Spy:
        def __call__(self, batch):
            calls.append(list(batch))
            return real(batch)

    monkeypatch.setattr(type(keeper.c.liquidator), "auctionViews", Spy(), raising=False)
    keeper.tick()
    keeper.tick()
    # One call per tick, one auction each, and the second tick resumes where the first stopped.
    assert len(calls) == 2 and sorted(c[0] for c in calls) == ids


def test_auction_views_match_auction_view(vault, weth, borrower, governor, eth_feed, liquidator, keeper):
    open_position(vault, borrower, weth, 10 * ETH, 14_000 * USDC)
    eth_feed.setAnswer(1_700 * 10**8, sender=governor)
    vault.liquidate(borrower, sender=keeper)
    (auction_id,) = live_auctions(liquidator)
    views = liquidator.auctionViews([auction_id, auction_id + 1])
    assert views[0] == liquidator.auctionView(auction_id) and views[0].lot > 0
    assert views[1].lot == 0  # an id that was never kicked reads as ended
