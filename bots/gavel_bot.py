"""Gavel's keeper as a Silverback bot, on the same core as the CLI:

    silverback run bots.gavel_bot:bot --network ethereum:local:node [--account ALIAS]

One keeper tick per new block, for every market in the settings. Settings as for the CLI:
GAVEL_KEEPER_CONFIG may name a TOML file, GAVEL_KEEPER_* variables override it; the network and
signer are Silverback's own (`--network`, `--account`), falling back to test account 0 on a local
chain.

Distributed (Silverback's own mode: `silverback run` hands each block to a broker, and any number
of `silverback worker` processes take them): set SILVERBACK_BROKER_CLASS and its kwargs to a
real broker (Redis through taskiq-redis), and GAVEL_KEEPER_LEASE_URL to a Redis. Every worker
process builds its own keepers when it starts (nothing lives only in the worker that ran
start-up); their mirrors and the signer's outbox are the settings' files, shared; and a block is
worked only under the signer's lease, so two workers never tick, and never choose a nonce, at the
same time. A worker that cannot get the lease within `lease_wait_seconds` leaves that block to
the holder (its next tick reads what the block changed)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ape import accounts, chain, project
from silverback import SilverbackBot
from silverback.main import SharedState

from bots.keeper.config import KeeperSettings, load_settings
from bots.keeper.core import Keeper, TickReport
from bots.keeper.lease import Lease, LocalLease, RedisLease
from bots.keeper.logs import configure
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.runner import TickLog, build_keepers

bot = SilverbackBot()
log = logging.getLogger("gavel.keeper.bot")
# Silverback's own lines for every task it runs, on Ape's logger: "<task> - Started", "<task> -
# 0.012s (1.0%)", and "Metrics collected" with a line per metric the task returns (14 a block with
# this bot's). The bot's heartbeat says it is alive; a failed task is still logged, as an error.
SILVERBACK_PER_TASK = re.compile(r" - (Started|\d+\.\d+s( \(.*%\))?|Metrics collected\n.*)$", re.DOTALL)


class QuietTasks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not SILVERBACK_PER_TASK.search(record.getMessage())


logging.getLogger("ape").addFilter(QuietTasks())


class Worker:
    """What one worker process holds: its keepers (one per market), the lease, its metrics."""

    def __init__(self, settings: KeeperSettings, keepers: list[Keeper], lease: Lease) -> None:
        self.settings, self.keepers, self.lease = settings, keepers, lease
        self.metrics = KeeperMetrics()
        self.tick_log = TickLog(settings.heartbeat_seconds)
        self.pid = os.getpid()


_worker: list[Worker] = []  # this process's, once started


@bot.on_worker_startup()
def start_worker(_: Any) -> None:
    # Silverback (0.7.38) creates `bot.state`, which every block task writes its checkpoints to,
    # only in the worker that runs its snapshot-loading system task: in any other worker each
    # block would fail before reaching this bot. Each process gets its own (it is per-process
    # anyway: SharedState is not networked).
    if not hasattr(bot, "state"):
        bot.state = SharedState()  # type: ignore[no-untyped-call]
    config = os.environ.get("GAVEL_KEEPER_CONFIG")
    settings = load_settings(Path(config) if config else None, network=bot.provider.network_choice)
    configure(settings.log_level)
    keepers = build_keepers(settings, project, chain, accounts, signer=bot.signer)
    lease: Lease = LocalLease()
    if settings.lease_url:
        signer = keepers[0].signer.address
        lease = RedisLease(settings.lease_url, str(signer), settings.lease_ttl_seconds)
        for keeper in keepers:
            keeper.sender.lease = lease
    _worker[:] = [Worker(settings, keepers, lease)]
    log.info("worker ready", extra={"pid": os.getpid(), "markets": [k.name for k in keepers]})


@bot.on_(chain.blocks)
def on_block(block: Any) -> dict[str, int]:
    worker = _worker[0]
    if not worker.lease.acquire(worker.settings.lease_wait_seconds):
        return {"skipped": 1}  # another worker is on it: its tick covers this block's events
    try:
        reports: list[TickReport] = []
        for keeper in worker.keepers:
            report = keeper.tick()
            worker.metrics.record(report, keeper.name)
            worker.tick_log.report(keeper.name, report)
            reports.append(report)
    finally:
        worker.lease.release()
    # Silverback records what a task returns as metrics of its own: summed over the markets.
    return {
        "accounts": sum(r.accounts for r in reports),
        "unhealthy": sum(len(r.unhealthy) for r in reports),
        "kicks": sum(len(r.kicked) for r in reports),
        "takes": sum(len(r.taken) for r in reports),
        "lost_races": sum(r.lost_races for r in reports),
        "errors": sum(len(r.errors) for r in reports),
        "deferred": sum(r.deferred for r in reports),
        "watch": sum(r.watch for r in reports),
        "watch_ready": sum(r.watch_ready for r in reports),
        "behind_update": sum(len(r.behind_update) for r in reports),
        "lag": max(r.sync.lag for r in reports),
    }


@bot.on_worker_shutdown()
def stop_worker(_: Any) -> None:
    for worker in _worker:
        for keeper in worker.keepers:
            keeper.store.close()
