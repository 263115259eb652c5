"""Prometheus metrics for the keeper, in a registry of its own (several keepers can run in one
test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bots.keeper.core import TickReport


class KeeperMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accounts = Gauge("gavel_keeper_accounts_watched", "Accounts in the mirror", registry=self.registry)
        self.unhealthy = Gauge(
            "gavel_keeper_unhealthy_accounts", "Accounts screened below health 1", registry=self.registry
        )
        self.lag = Gauge(
            "gavel_keeper_lag_blocks", "Blocks between the head and the mirror's checkpoint", registry=self.registry
        )
        self.kicks = Counter("gavel_keeper_kicks", "Kicks sent", registry=self.registry)
        self.takes = Counter("gavel_keeper_takes", "Takes sent", registry=self.registry)
        self.redos = Counter("gavel_keeper_redos", "Redos sent", registry=self.registry)
        self.lost_races = Counter(
            "gavel_keeper_lost_races", "Transactions skipped because someone was first", registry=self.registry
        )
        self.profit = Counter("gavel_keeper_profit", "Take profit [debt asset units]", registry=self.registry)
        self.errors = Counter(
            "gavel_keeper_errors",
            "Failures on one account, auction or request (the tick went on)",
            registry=self.registry,
        )
        self.deferred = Gauge(
            "gavel_keeper_deferred",
            "Candidates and auctions left to the next tick (budget or time)",
            registry=self.registry,
        )
        self.watch = Gauge(
            "gavel_keeper_watch_accounts",
            "Accounts a k-sigma fall would put under (the watch list)",
            registry=self.registry,
        )
        self.watch_ready = Gauge(
            "gavel_keeper_watch_ready",
            "Watched accounts whose kick is simulated at the stressed price, ready to sign",
            registry=self.registry,
        )
        self.behind_update = Counter(
            "gavel_keeper_kicks_behind_update",
            "Kicks sent to land right after an oracle update seen in the node's pool",
            registry=self.registry,
        )
        self.screen_ms = Gauge(
            "gavel_keeper_candidates_ms", "Milliseconds from the tick's start to its candidates", registry=self.registry
        )
        self.skipped = Counter(
            "gavel_keeper_skipped_ticks", "Blocks skipped because a tick was still running", registry=self.registry
        )

    def record(self, report: TickReport) -> None:
        if report.skipped:
            self.skipped.inc()
            return
        self.accounts.set(report.accounts)
        self.unhealthy.set(len(report.unhealthy))
        self.lag.set(report.sync.lag)
        self.kicks.inc(len(report.kicked))
        self.takes.inc(len(report.taken))
        self.redos.inc(len(report.redone))
        self.lost_races.inc(report.lost_races)
        self.profit.inc(report.profit)
        self.errors.inc(len(report.errors))
        self.deferred.set(report.deferred)
        self.watch.set(report.watch)
        self.watch_ready.set(report.watch_ready)
        self.behind_update.inc(len(report.behind_update))
        if "screen" in report.timings:
            self.screen_ms.set(report.timings["screen"])

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
