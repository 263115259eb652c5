"""Prometheus metrics for the keeper, in a registry of its own (several keepers can run in one
test process), every series labelled with its market (one process may serve several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bots.keeper.core import TickReport


class KeeperMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accounts = self._gauge("gavel_keeper_accounts_watched", "Accounts in the mirror")
        self.unhealthy = self._gauge("gavel_keeper_unhealthy_accounts", "Accounts screened below health 1")
        self.lag = self._gauge("gavel_keeper_lag_blocks", "Blocks between the head and the mirror's checkpoint")
        self.kicks = self._counter("gavel_keeper_kicks", "Kicks sent")
        self.takes = self._counter("gavel_keeper_takes", "Takes sent")
        self.redos = self._counter("gavel_keeper_redos", "Redos sent")
        self.lost_races = self._counter("gavel_keeper_lost_races", "Transactions skipped because someone was first")
        self.profit = self._counter("gavel_keeper_profit", "Take profit [debt asset units]")
        self.errors = self._counter(
            "gavel_keeper_errors", "Failures on one account, auction or request (the tick went on)"
        )
        self.deferred = self._gauge(
            "gavel_keeper_deferred", "Candidates and auctions left to the next tick (budget or time)"
        )
        self.watch = self._gauge("gavel_keeper_watch_accounts", "Accounts a k-sigma fall would put under")
        self.watch_ready = self._gauge(
            "gavel_keeper_watch_ready", "Watched accounts whose kick is simulated at the stressed price"
        )
        self.behind_update = self._counter(
            "gavel_keeper_kicks_behind_update", "Kicks sent to land right after an oracle update seen in the pool"
        )
        self.screen_ms = self._gauge(
            "gavel_keeper_candidates_ms", "Milliseconds from the tick's start to its candidates"
        )
        self.skipped = self._counter("gavel_keeper_skipped_ticks", "Blocks skipped because a tick was still running")

    def _gauge(self, name: str, doc: str) -> Gauge:
        return Gauge(name, doc, labelnames=("market",), registry=self.registry)

    def _counter(self, name: str, doc: str) -> Counter:
        return Counter(name, doc, labelnames=("market",), registry=self.registry)

    def record(self, report: TickReport, market: str = "gavel") -> None:
        """One market's tick; every series is labelled with the market's name."""
        if report.skipped:
            self.skipped.labels(market).inc()
            return
        self.accounts.labels(market).set(report.accounts)
        self.unhealthy.labels(market).set(len(report.unhealthy))
        self.lag.labels(market).set(report.sync.lag)
        self.kicks.labels(market).inc(len(report.kicked))
        self.takes.labels(market).inc(len(report.taken))
        self.redos.labels(market).inc(len(report.redone))
        self.lost_races.labels(market).inc(report.lost_races)
        self.profit.labels(market).inc(report.profit)
        self.errors.labels(market).inc(len(report.errors))
        self.deferred.labels(market).set(report.deferred)
        self.watch.labels(market).set(report.watch)
        self.watch_ready.labels(market).set(report.watch_ready)
        self.behind_update.labels(market).inc(len(report.behind_update))
        if "screen" in report.timings:
            self.screen_ms.labels(market).set(report.timings["screen"])

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
