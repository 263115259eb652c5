"""Gavel's keeper as a Silverback bot, on the same core as the CLI:

    silverback run bots.gavel_bot:bot --network ethereum:local:node [--account ALIAS]

One keeper tick per new block. Settings as for the CLI: GAVEL_KEEPER_CONFIG may name a TOML file,
GAVEL_KEEPER_* variables override it; the network and signer are Silverback's own (`--network`,
`--account`), falling back to test account 0 on a local chain."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ape import accounts, chain, project
from silverback import SilverbackBot

from bots.keeper.config import load_settings
from bots.keeper.core import Keeper, TickReport
from bots.keeper.logs import configure
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.runner import build_keepers

bot = SilverbackBot()
_state: dict[str, Any] = {}


def _keepers() -> list[Keeper]:
    keepers: list[Keeper] = _state["keepers"]
    return keepers


@bot.on_startup()
def start(_: Any) -> None:
    config = os.environ.get("GAVEL_KEEPER_CONFIG")
    settings = load_settings(Path(config) if config else None, network=bot.provider.network_choice)
    configure(settings.log_level)
    _state["keepers"] = build_keepers(settings, project, chain, accounts, signer=bot.signer)
    _state["metrics"] = KeeperMetrics()


@bot.on_(chain.blocks)
def on_block(block: Any) -> dict[str, int]:
    # A block that arrives while a tick is still running is skipped, not queued behind it.
    reports: list[TickReport] = []
    for keeper in _keepers():
        report = keeper.tick(wait=False)
        _state["metrics"].record(report, keeper.name)
        reports.append(report)
    if all(r.skipped for r in reports):
        return {"skipped": 1}
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


@bot.on_shutdown()
def stop() -> None:
    for keeper in _state.get("keepers", []):
        keeper.store.close()
