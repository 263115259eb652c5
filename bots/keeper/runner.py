"""Turning settings into a running keeper: the deployment record, the signer, the contracts,
and the loop with retries, metrics and a clean stop. Shared by the CLI and the Silverback bot."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.keeper.config import KeeperSettings
from bots.keeper.core import Contracts, Keeper, Policy, TickReport
from bots.keeper.deployments import DeploymentRecord, deployments_path, has_test_accounts
from bots.keeper.errors import ConfigError, DeploymentNotFound
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.store import Store

log = logging.getLogger("gavel.keeper.runner")
CONTRACTS = {
    "vault": "Vault",
    "liquidator": "DutchAuctionLiquidator",
    "oracle": "OracleAdapter",
    "insurance_fund": "InsuranceFund",
    "debt_asset": "MockERC20",  # any ERC-20 ABI serves
    "taker": "UniswapV2Taker",
    "uniswap_factory": None,  # Uniswap's own ABIs, from npm
    "uniswap_router": None,
}


def deployment_for(settings: KeeperSettings) -> tuple[Path, DeploymentRecord]:
    """The deployment record the settings point at; DeploymentNotFound says what to run first."""
    path = settings.deployments or deployments_path(settings.network)
    record = DeploymentRecord.read(path)
    missing = [name for name in CONTRACTS if name not in record.addresses and name != "debt_asset"]
    if "usdc" not in record.addresses and "debt_asset" not in record.addresses:
        missing.append("debt_asset")
    if missing:
        raise DeploymentNotFound(
            f"{path} has no {', '.join(missing)}: redeploy with `ape run deploy --network {settings.network}`"
        )
    return path, record


def check_network(choice: str, networks: Any) -> None:
    """ConfigError naming the network when Ape does not know it."""
    try:
        networks.parse_network_choice(choice)
    except Exception as err:  # noqa: BLE001 - Ape raises several types for a bad choice
        raise ConfigError(
            f"config key 'network': unknown network {choice!r} ({err}); `ape networks list` shows the choices"
        ) from err


def signer_for(settings: KeeperSettings, accounts: Any) -> Any:
    """The Ape account to sign with: the configured alias, or test account 0 on a local chain or a
    fork (both fund Ape's test accounts)."""
    if settings.account:
        try:
            return accounts.load(settings.account)
        except Exception as err:  # noqa: BLE001
            raise ConfigError(f"config key 'account': no Ape account named {settings.account!r} ({err})") from err
    if has_test_accounts((settings.network.split(":") + [""])[1]):
        return accounts.test_accounts[0]
    raise ConfigError(f"config key 'account': required on {settings.network!r} (an alias from `ape accounts list`)")


def build_keeper(settings: KeeperSettings, project: Any, chain: Any, accounts: Any, signer: Any = None) -> Keeper:
    """Everything the keeper needs, from settings, on the connected network. `signer` overrides
    the settings' account (the Silverback bot passes the one given to `silverback run`)."""
    from ape.contracts import ContractContainer, ContractInstance

    from scripts._deployment import npm_artifact

    path, record = deployment_for(settings)
    if record.chain_id != chain.chain_id:
        raise ConfigError(f"{path} is for chain {record.chain_id}, but {settings.network} is chain {chain.chain_id}")
    addresses = dict(record.addresses)
    addresses.setdefault("debt_asset", addresses.get("usdc", ""))
    instances: dict[str, Any] = {}
    for name, contract_type in CONTRACTS.items():
        if contract_type:
            instances[name] = getattr(project, contract_type).at(addresses[name])
    # Only the factory's address is used (pairs are computed from it), so no code check.
    instances["uniswap_factory"] = ContractInstance(
        addresses["uniswap_factory"], npm_artifact("@uniswap/v2-core", "UniswapV2Factory")
    )
    instances["uniswap_router"] = ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).at(
        addresses["uniswap_router"]
    )
    store = Store(settings.database, record.chain_id, addresses["vault"], record.start_block)
    policy = Policy(
        kick_mode=settings.kick_mode,
        kick_margin_bps=settings.kick_margin_bps,
        take_min_profit_bps=settings.take_min_profit_bps,
        max_fee_gwei=settings.max_fee_gwei,
        priority_fee_gwei=settings.priority_fee_gwei,
        confirmations=settings.confirmations,
        replace_after_blocks=settings.replace_after_blocks,
        use_flash_taker=settings.use_flash_taker,
        dry_run=settings.dry_run,
        kicks_per_tick=settings.kicks_per_tick,
        takes_per_tick=settings.takes_per_tick,
        tick_seconds=settings.tick_seconds,
        auctions_per_tick=settings.auctions_per_tick,
        watch_sigmas=settings.watch_sigmas,
        watch_rounds=settings.watch_rounds,
        watch_simulations_per_tick=settings.watch_simulations_per_tick,
        watch_pool=settings.watch_pool,
    )
    return Keeper(Contracts(**instances), signer or signer_for(settings, accounts), chain, store, policy, project)


@dataclass
class Loop:
    """Runs ticks until stopped, retrying through RPC failures with backoff."""

    keeper: Keeper
    metrics: KeeperMetrics
    poll_seconds: float
    max_backoff: float = 30.0
    stopping: bool = False

    def stop(self, *_: object) -> None:
        log.info("stopping after the current tick")
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def run(self, ticks: int | None = None, on_tick: Callable[[TickReport], None] | None = None) -> None:
        backoff, done = self.poll_seconds, 0
        while not self.stopping and (ticks is None or done < ticks):
            try:
                report = self.keeper.tick()
            except Exception as err:  # noqa: BLE001 - the node went away, a request timed out...
                log.warning("tick failed, retrying in %.1fs: %s", backoff, err)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.poll_seconds
            done += 1
            self.metrics.record(report)
            log.info(
                "tick",
                extra={
                    "checkpoint": report.sync.checkpoint,
                    "events": report.sync.events,
                    "rebuilt": report.sync.rebuilt,
                    "lag": report.sync.lag,
                    "accounts": report.accounts,
                    "unhealthy": len(report.unhealthy),
                    "kicked": report.kicked,
                    "taken": report.taken,
                    "replaced": report.replaced,
                    "lost_races": report.lost_races,
                    "errors": report.errors,
                    "deferred": report.deferred,
                    "watch": report.watch,
                    "watch_ready": report.watch_ready,
                    "pending_updates": report.pending_updates,
                    "behind_update": len(report.behind_update),
                    "timings_ms": report.timings,
                    "would_send": report.would_send,
                },
            )
            if on_tick:
                on_tick(report)
            time.sleep(self.poll_seconds)
        self.keeper.store.close()  # every checkpoint is already committed; this just lets go
        log.info("stopped")
