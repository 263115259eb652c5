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
from bots.keeper.core import Keeper
from bots.keeper.logs import configure
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.runner import build_keeper

bot = SilverbackBot()
_state: dict[str, Any] = {}


def _keeper() -> Keeper:
    keeper: Keeper = _state["keeper"]
    return keeper


@bot.on_startup()
def start(_: Any) -> None:
    config = os.environ.get("GAVEL_KEEPER_CONFIG")
    settings = load_settings(Path(config) if config else None, network=bot.provider.network_choice)
    configure(settings.log_level)
    _state["keeper"] = build_keeper(settings, project, chain, accounts, signer=bot.signer)
    _state["metrics"] = KeeperMetrics()


@bot.on_(chain.blocks)
def on_block(block: Any) -> dict[str, int]:
    # A block that arrives while a tick is still running is skipped, not queued behind it.
    report = _keeper().tick(wait=False)
    _state["metrics"].record(report)
    if report.skipped:
        return {"skipped": 1}
    # Silverback records what a task returns as metrics of its own.
    return {
        "accounts": report.accounts,
        "unhealthy": len(report.unhealthy),
        "kicks": len(report.kicked),
        "takes": len(report.taken),
        "lost_races": report.lost_races,
        "errors": len(report.errors),
        "deferred": report.deferred,
        "watch": report.watch,
        "watch_ready": report.watch_ready,
        "behind_update": len(report.behind_update),
        "lag": report.sync.lag,
    }


@bot.on_shutdown()
def stop() -> None:
    if "keeper" in _state:
        _keeper().store.close()
