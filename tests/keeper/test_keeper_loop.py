"""The keeper loop: it retries through failed ticks (a node gone away) with backoff, records
metrics, and stops cleanly, closing its store. Pure: a stand-in keeper, no chain."""

from types import SimpleNamespace

import pytest

from bots.keeper.core import TickReport
from bots.keeper.indexer import SyncResult
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.runner import Loop

pytestmark = pytest.mark.unit


class FlakyKeeper:
    """Fails `failures` ticks (as an RPC outage would), then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls, self.closed, self.name = failures, 0, False, "usdc"
        self.store = SimpleNamespace(close=self._close)

    def _close(self) -> None:
        self.closed = True

    def tick(self) -> TickReport:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("connection refused")
        return TickReport(
            SyncResult(checkpoint=10, head=12, events=1, rebuilt=False), accounts=3, kicked=["0xabc"], profit=5
        )


def test_loop_retries_through_an_outage_and_stops_cleanly(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("bots.keeper.runner.time.sleep", sleeps.append)
    keeper, metrics = FlakyKeeper(failures=3), KeeperMetrics()
    loop = Loop([keeper], metrics, poll_seconds=1.0, max_backoff=3.0)  # type: ignore[arg-type]
    loop.run(ticks=2)
    assert keeper.calls == 5 and keeper.closed
    assert sleeps == [1.0, 2.0, 3.0, 1.0, 1.0]  # backoff doubles up to its cap, then the normal poll

    def value(name):
        return metrics.registry.get_sample_value(name, {"market": "usdc"})

    assert value("gavel_keeper_kicks_total") == 2 and value("gavel_keeper_lag_blocks") == 2
    assert value("gavel_keeper_accounts_watched") == 3 and value("gavel_keeper_profit_total") == 10


def test_stop_ends_the_loop_after_the_current_tick(monkeypatch):
    monkeypatch.setattr("bots.keeper.runner.time.sleep", lambda _: None)
    keeper = FlakyKeeper(failures=0)
    loop = Loop([keeper], KeeperMetrics(), poll_seconds=0.01)  # type: ignore[arg-type]
    loop.run(ticks=None, on_tick=lambda report: loop.stop())
    assert keeper.calls == 1 and keeper.closed
