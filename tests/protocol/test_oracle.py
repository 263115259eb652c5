"""OracleAdapter: median, staleness, quorum, deviation, sequencer, configuration bounds."""

import ape
import pytest

from helpers import WAD

OK, STALE, NO_QUORUM, DISPUTED, SEQUENCER_DOWN = range(5)


@pytest.fixture
def feeds(project, governor):
    """Three ETH/USD sources at 2000, 2010 and 1990 (8 decimals)."""
    return [
        project.MockAggregator.deploy(8, f"ETH / USD {i}", p * 10**8, sender=governor)
        for i, p in enumerate((2000, 2010, 1990))
    ]


@pytest.fixture
def three_source_oracle(oracle, governor, weth, feeds):
    oracle.setSources(weth, feeds, [3600] * 3, 2, WAD // 50, sender=governor)
    return oracle


def test_median_of_three(three_source_oracle, weth):
    assert three_source_oracle.peek(weth) == (2000 * WAD, OK)
    assert three_source_oracle.price(weth) == 2000 * WAD


def test_median_of_two_averages_the_middle(three_source_oracle, feeds, weth, governor, chain):
    # One source goes stale: the median of the two fresh ones is their mean.
    feeds[2].setAnswerAt(1990 * 10**8, chain.pending_timestamp - 7200, sender=governor)
    assert three_source_oracle.peek(weth) == (2005 * WAD, OK)


def test_decimals_are_normalised(project, oracle, governor, weth):
    feed18 = project.MockAggregator.deploy(18, "ETH / USD 18", 2000 * WAD, sender=governor)
    oracle.setSources(weth, [feed18], [3600], 1, WAD // 100, sender=governor)
    assert oracle.price(weth) == 2000 * WAD


def test_stale_source_is_refused(oracle, eth_feed, weth, governor, chain):
    eth_feed.setAnswerAt(2000 * 10**8, chain.pending_timestamp - 3601, sender=governor)
    assert oracle.status(weth) == STALE
    with ape.reverts(oracle.PriceUnavailable, asset=weth.address, status=STALE):
        oracle.price(weth)


def test_answer_exactly_at_heartbeat_still_counts(oracle, eth_feed, weth, governor, chain):
    # Views run at the latest block's timestamp: the setting transaction's own block.
    eth_feed.setAnswerAt(2000 * 10**8, chain.pending_timestamp - 3600, sender=governor)
    age = chain.blocks.head.timestamp - eth_feed.updatedAt()
    assert age == 3600 and oracle.status(weth) == OK


@pytest.mark.parametrize("answer", [0, -1])
def test_non_positive_answer_does_not_count(oracle, eth_feed, weth, governor, answer):
    eth_feed.setAnswer(answer, sender=governor)
    assert oracle.status(weth) == STALE


def test_incomplete_round_does_not_count(oracle, eth_feed, weth, governor):
    eth_feed.setAnsweredInRound(0, sender=governor)
    assert oracle.status(weth) == STALE


def test_future_timestamp_does_not_count(oracle, eth_feed, weth, governor, chain):
    eth_feed.setAnswerAt(2000 * 10**8, chain.pending_timestamp + 3600, sender=governor)
    assert oracle.status(weth) == STALE


def test_below_quorum(three_source_oracle, feeds, weth, governor, chain):
    old = chain.pending_timestamp - 7200
    feeds[0].setAnswerAt(2000 * 10**8, old, sender=governor)
    feeds[1].setAnswerAt(2010 * 10**8, old, sender=governor)
    price, status = three_source_oracle.peek(weth)
    assert (price, status) == (1990 * WAD, NO_QUORUM)
    with ape.reverts(three_source_oracle.PriceUnavailable, asset=weth.address, status=NO_QUORUM):
        three_source_oracle.price(weth)


def test_disputed_when_spread_exceeds_bound(three_source_oracle, feeds, weth, governor):
    feeds[1].setAnswer(2100 * 10**8, sender=governor)  # spread (2100-1990)/2000 = 5.5% > 2%
    assert three_source_oracle.peek(weth) == (2000 * WAD, DISPUTED)


def test_spread_at_bound_is_ok(three_source_oracle, feeds, weth, governor):
    feeds[1].setAnswer(2030 * 10**8, sender=governor)  # (2030-1990)/2000 = 2% exactly
    assert three_source_oracle.status(weth) == OK


def test_reverting_feed_does_not_count(oracle, governor, weth, eth_feed, usdc):
    # An ERC-20 answers decimals() but has no latestRoundData(): reading it reverts, and the
    # adapter counts it as a source that does not count instead of reverting itself.
    oracle.setSources(weth, [eth_feed, usdc], [3600, 3600], 2, WAD // 50, sender=governor)
    assert oracle.peek(weth) == (2000 * WAD, NO_QUORUM)
    oracle.setSources(weth, [eth_feed, usdc], [3600, 3600], 1, WAD // 50, sender=governor)
    assert oracle.peek(weth) == (2000 * WAD, OK)


def test_sequencer_down_and_grace_period(project, oracle, governor, weth, chain):
    sequencer = project.MockAggregator.deploy(0, "L2 sequencer", 0, sender=governor)
    sequencer.setAnswerAt(0, chain.pending_timestamp - 7200, sender=governor)
    tx = oracle.setSequencerFeed(sequencer, 3600, sender=governor)
    assert tx.events.filter(oracle.SequencerFeedSet)[0].feed == sequencer.address
    assert oracle.status(weth) == OK
    sequencer.setAnswer(1, sender=governor)  # down
    assert oracle.status(weth) == SEQUENCER_DOWN
    sequencer.setAnswer(0, sender=governor)  # back up, inside the grace period
    assert oracle.status(weth) == SEQUENCER_DOWN
    sequencer.setAnswerAt(0, chain.pending_timestamp - 3601, sender=governor)
    assert oracle.status(weth) == OK


def test_unconfigured_asset(oracle, other):
    with ape.reverts(oracle.AssetNotConfigured, asset=other.address):
        oracle.peek(other)


def test_set_sources_emits_and_replaces(oracle, governor, weth, feeds):
    tx = oracle.setSources(weth, feeds[:2], [3600, 600], 1, WAD // 10, sender=governor)
    event = tx.events.filter(oracle.SourcesSet)[0]
    assert event.asset == weth.address and list(event.feeds) == [f.address for f in feeds[:2]]
    assert list(event.heartbeats) == [3600, 600] and event.quorum == 1 and event.maxDeviation == WAD // 10
    sources, quorum, deviation = oracle.sourcesOf(weth)
    assert [s.feed for s in sources] == [f.address for f in feeds[:2]]
    assert [s.decimals for s in sources] == [8, 8] and quorum == 1 and deviation == WAD // 10


def test_set_sources_bounds(oracle, governor, weth, feeds, project):
    six = feeds + [project.MockAggregator.deploy(8, "x", 1, sender=governor) for _ in range(3)]
    with ape.reverts(oracle.InvalidSourceCount, count=0):
        oracle.setSources(weth, [], [], 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidSourceCount, count=6):
        oracle.setSources(weth, six, [3600] * 6, 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.LengthMismatch):
        oracle.setSources(weth, feeds, [3600] * 2, 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidQuorum, quorum=0):
        oracle.setSources(weth, feeds, [3600] * 3, 0, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidQuorum, quorum=4):
        oracle.setSources(weth, feeds, [3600] * 3, 4, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidDeviation):
        oracle.setSources(weth, feeds, [3600] * 3, 1, WAD, sender=governor)
    with ape.reverts(oracle.InvalidDeviation):
        oracle.setSources(weth, feeds, [3600] * 3, 1, 0, sender=governor)
    with ape.reverts(oracle.InvalidHeartbeat, heartbeat=59):
        oracle.setSources(weth, feeds, [3600, 59, 3600], 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidHeartbeat):
        oracle.setSources(weth, feeds, [3600, 3 * 86400 + 1, 3600], 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidFeed):
        oracle.setSources(weth, [feeds[0], feeds[0]], [3600, 3600], 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidFeed):
        oracle.setSources(weth, [ape.utils.ZERO_ADDRESS], [3600], 1, WAD // 50, sender=governor)
    # Not a feed: an account without code, a contract without decimals() (the adapter itself).
    for not_a_feed in (governor.address, oracle.address):
        with ape.reverts(oracle.InvalidFeed, feed=not_a_feed):
            oracle.setSources(weth, [not_a_feed], [3600], 1, WAD // 50, sender=governor)
    with ape.reverts(oracle.InvalidGracePeriod):
        oracle.setSequencerFeed(feeds[0], 86401, sender=governor)
    # Nothing above changed the configuration.
    sources, quorum, _ = oracle.sourcesOf(weth)
    assert len(sources) == 1 and quorum == 1


def test_only_governor_configures(oracle, guardian, other, weth, feeds):
    role = oracle.GOVERNOR_ROLE()
    for caller in (guardian, other):
        with ape.reverts(oracle.AccessControlUnauthorizedAccount, account=caller.address, neededRole=role):
            oracle.setSources(weth, feeds, [3600] * 3, 1, WAD // 50, sender=caller)
        with ape.reverts(oracle.AccessControlUnauthorizedAccount):
            oracle.setSequencerFeed(feeds[0], 0, sender=caller)
