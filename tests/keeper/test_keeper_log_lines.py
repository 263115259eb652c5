"""What the keeper's ticks log, for a person reading it: nothing for a tick that only followed the
chain, a heartbeat every `heartbeat_seconds` instead (by a clock the test drives), one short line
for a tick that did something, auction ids in their short form. Pure: tick reports, no chain."""

import logging

import pytest

from bots.keeper.core import TickReport
from bots.keeper.indexer import SyncResult
from bots.keeper.logs import JsonFormatter, shown
from bots.keeper.runner import TickLog
from bots.keeper.status import short_id

pytestmark = pytest.mark.unit

AUCTION = 2**255 + 12345  # an auction id is a hash: 77 decimal digits
ACCOUNT = "0x" + "ab" * 20


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def quiet(block: int) -> TickReport:
    """A tick on a chain where nothing happens: a new block, no events, nothing to do."""
    return TickReport(SyncResult(checkpoint=block, head=block, events=0, rebuilt=False), accounts=3)


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="gavel.keeper.runner")

    def by_message(message: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "gavel.keeper.runner" and r.getMessage() == message]

    return by_message


def test_a_quiet_chain_logs_a_heartbeat_a_minute_and_no_tick_lines(lines):
    clock = Clock()
    tick_log = TickLog(heartbeat_seconds=60, clock=clock)
    for block in range(1, 131):  # a block a second for 130 s, a tick for each
        tick_log.report("usdc", quiet(block))
        clock.now += 1
    assert lines("tick") == []
    beats = lines("heartbeat")
    assert [b.checkpoint for b in beats] == [1, 61, 121]  # type: ignore[attr-defined]
    assert [b.ticks for b in beats] == [1, 60, 60]  # type: ignore[attr-defined]  # ticks since the last one


def test_a_heartbeat_follows_a_failed_tick_at_once(lines):
    clock = Clock()
    tick_log = TickLog(heartbeat_seconds=60, clock=clock)
    tick_log.report("usdc", quiet(1))
    clock.now += 5
    tick_log.failed("usdc")  # the node went away
    tick_log.report("usdc", quiet(2))
    assert [b.checkpoint for b in lines("heartbeat")] == [1, 2]  # type: ignore[attr-defined]


def test_a_tick_that_did_something_logs_one_short_line_with_short_auction_ids(lines):
    clock = Clock()
    tick_log = TickLog(heartbeat_seconds=60, clock=clock)
    tick_log.report("usdc", quiet(1))
    busy = quiet(2)
    busy.taken, busy.lost_races, busy.timings = [AUCTION], 1, {"sync": 1.5, "read": 4.25}
    busy.errors = [f"take {shown(str(AUCTION))} would revert: BreakerActive(level=3)"]
    tick_log.report("usdc", busy)
    (line,) = lines("tick")
    assert line.taken == [short_id(AUCTION)] and line.lost_races == 1 and line.ms == 4.25  # type: ignore[attr-defined]
    text = JsonFormatter().format(line)
    assert str(AUCTION) not in text and short_id(AUCTION) in text, text
    assert "accounts" not in text and "timings" not in text and len(text) < 300  # only what happened


def test_an_unhealthy_account_is_news_once(lines):
    tick_log = TickLog(heartbeat_seconds=60, clock=Clock())
    for block in (1, 2, 3):
        report = quiet(block)
        report.unhealthy = [ACCOUNT]  # not worth kicking yet: nothing sent, the same every tick
        tick_log.report("usdc", report)
    assert [r.unhealthy for r in lines("tick")] == [1]  # type: ignore[attr-defined]


def test_an_auction_id_is_short_where_logs_show_it():
    assert short_id(AUCTION) == "0x80000000…003039"
    assert shown(str(AUCTION)) == short_id(AUCTION) and shown(ACCOUNT) == ACCOUNT
