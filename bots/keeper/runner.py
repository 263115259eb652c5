"""Turning settings into a running keeper: the deployment record, the signer, the contracts,
and the loop with retries, metrics and a clean stop. Shared by the CLI and the Silverback bot."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import is_hex_address, to_checksum_address

from bots.keeper.config import KeeperSettings, MarketSettings
from bots.keeper.core import Contracts, Keeper, Policy, TickReport
from bots.keeper.deployments import DeploymentRecord, has_test_accounts
from bots.keeper.errors import ChainChanged, ConfigError, DeploymentNotFound, DeploymentPending, NodeUnreachable
from bots.keeper.logs import shown
from bots.keeper.metrics import KeeperMetrics
from bots.keeper.routes import V2, V3, RouteSpec
from bots.keeper.rpc import HttpJsonRpc
from bots.keeper.status import short_id
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


def deployment_for(market: MarketSettings) -> tuple[Path, DeploymentRecord]:
    """The deployment record a market's settings point at; DeploymentNotFound says what to run first."""
    path = market.deployments
    record = DeploymentRecord.read(path)
    missing = [name for name in CONTRACTS if name not in record.addresses and name != "debt_asset"]
    if "usdc" not in record.addresses and "debt_asset" not in record.addresses:
        missing.append("debt_asset")
    if missing:
        raise DeploymentNotFound(
            f"{path} has no {', '.join(missing)}: redeploy with `ape run deploy --network {record.network}`"
        )
    return path, record


def resolve_token(name: str, record: DeploymentRecord, key: str) -> str:
    """A token named in settings: an address, or a name in the deployment record (`weth`)."""
    if is_hex_address(name):
        return to_checksum_address(name)
    if name in record.addresses:
        return to_checksum_address(record.addresses[name])
    raise ConfigError(f"config key {key!r}: {name!r} is neither an address nor a name in the deployment record")


def routes_for(market: MarketSettings, record: DeploymentRecord) -> dict[str, RouteSpec]:
    """The market's routes, every token resolved; the first token must be the collateral."""
    out: dict[str, RouteSpec] = {}
    for collateral, route in market.routes.items():
        key = f"markets.{market.label}.routes.{collateral}"
        asset = resolve_token(collateral, record, key)
        if route.uniswap_v2_path is not None:
            spec = RouteSpec(V2, tuple(resolve_token(t, record, key) for t in route.uniswap_v2_path))
        else:
            hops = route.uniswap_v3_path or []
            tokens = tuple(resolve_token(str(t), record, key) for t in hops[0::2])
            spec = RouteSpec(V3, tokens, tuple(int(f) for f in hops[1::2]))
        if spec.tokens[0] != asset:
            raise ConfigError(f"config key {key!r}: the path must start at the collateral {asset}")
        out[asset] = spec
    return out


def check_network(choice: str, networks: Any) -> None:
    """ConfigError naming the network when Ape does not know it, or when connecting to it would
    start a throw-away chain: a keeper serves a chain that is already running."""
    try:
        networks.parse_network_choice(choice)
    except Exception as err:  # noqa: BLE001 - Ape raises several types for a bad choice
        raise ConfigError(
            f"config key 'network': unknown network {choice!r} ({err}); `ape networks list` shows the choices"
        ) from err
    if _starts_its_own_chain(choice, networks):
        raise ConfigError(
            f"config key 'network': {choice!r} starts a throw-away Anvil with no Gavel on it; serve a running "
            "node: ethereum:local:node (port 8545) or ethereum:local:http://127.0.0.1:PORT"
        )


def _starts_its_own_chain(choice: str, networks: Any) -> bool:
    """The foundry provider on a local network or a fork: ape-config.yaml gives it `host: auto`,
    so Ape starts an Anvil of its own for it, and stops it when the keeper stops."""
    ecosystem, network, provider = ([*choice.split(":", 2), "", ""])[:3]
    if not provider:
        provider = networks.get_ecosystem(ecosystem).get_network(network or "local").default_provider_name
    return provider == "foundry" and ((network or "local") == "local" or network.endswith("-fork"))


@contextmanager
def connected(choice: str, networks: Any) -> Iterator[Any]:
    """Ape connected to `choice`; NodeUnreachable (one line: where, and what to start) when the
    node does not answer, instead of Ape's traceback (which, for `local:node`, offers to install
    geth)."""
    context = networks.parse_network_choice(choice)
    try:
        provider = context.__enter__()
    except Exception as err:  # noqa: BLE001 - Ape raises many types for a node that is not there
        where = _node_uri(choice)
        hint = (
            "start one (`node_modules/.bin/anvil --chain-id 1337 > anvil.log &` serves ethereum:local:node on "
            "port 8545; `ethereum:local:http://127.0.0.1:PORT` names another port)"
            if ":local:" in f"{choice}:"
            else "check the RPC URL in ape-config.yaml or APE_NODE_* (see 'Running on a real network')"
        )
        raise NodeUnreachable(f"cannot reach the node for {choice}{where}: {hint}") from err
    try:
        yield provider
    finally:
        context.__exit__(None, None, None)


def _node_uri(choice: str) -> str:
    parts = choice.split(":", 2)
    if len(parts) == 3 and parts[2].startswith("http"):
        return f" at {parts[2]}"
    return " at http://127.0.0.1:8545" if parts[1:2] == ["local"] and parts[2:] == ["node"] else ""


def signer_for(settings: KeeperSettings, accounts: Any) -> Any:
    """The Ape account to sign with: the configured alias, or test account 0 on a local chain or a
    fork (both fund Ape's test accounts)."""
    if settings.account:
        try:
            account = accounts.load(settings.account)
        except Exception as err:  # noqa: BLE001
            raise ConfigError(f"config key 'account': no Ape account named {settings.account!r} ({err})") from err
        variable = f"APE_ACCOUNTS_{settings.account}_PASSPHRASE"
        if hasattr(account, "keyfile_path") and variable not in os.environ and not sys.stdin.isatty():
            raise ConfigError(
                f"config key 'account': {settings.account!r} is locked and there is no terminal to ask for its "
                f"passphrase: set {variable} in the keeper's environment (a secret store, never a file in the repo)"
            )
        return account
    if has_test_accounts((settings.network.split(":") + [""])[1]):
        return accounts.test_accounts[0]
    raise ConfigError(f"config key 'account': required on {settings.network!r} (an alias from `ape accounts list`)")


def build_keepers(
    settings: KeeperSettings, project: Any, chain: Any, accounts: Any, signer: Any = None
) -> list[Keeper]:
    """A keeper for every market in the settings, on the connected network, all signing with one
    account and sharing its outbox. `signer` overrides the settings' account (the Silverback bot
    passes the one given to `silverback run`)."""
    markets = settings.market_list()
    signer = signer or signer_for(settings, accounts)
    outbox = settings.outbox or markets[0].mirror
    rpc = HttpJsonRpc(chain.provider.http_uri)  # one client (and one connection pool) for all
    return [_keeper_for(m, settings, project, chain, signer, outbox, rpc) for m in markets]


def market_contracts(
    market: MarketSettings, network: str, project: Any, chain: Any
) -> tuple[Path, DeploymentRecord, dict[str, str], dict[str, Any]]:
    """The market's record, its addresses (names resolved) and the core contracts' instances;
    DeploymentNotFound (one line: redeploy) when the record's Vault has no code on this chain."""
    path, record = deployment_for(market)
    if record.chain_id != chain.chain_id:
        raise ConfigError(f"{path} is for chain {record.chain_id}, but {network} is chain {chain.chain_id}")
    addresses = dict(record.addresses)
    addresses.setdefault("debt_asset", addresses.get("usdc", ""))
    if not chain.provider.get_code(addresses["vault"]):
        raise DeploymentNotFound(
            f"{path} names a Vault at {addresses['vault']} with no code on {network}: the chain was restarted "
            f"or is another one; redeploy with `ape run deploy --network {network}` or point at the right record"
        )
    instances: dict[str, Any] = {}
    for name, contract_type in CONTRACTS.items():
        if contract_type:
            instances[name] = getattr(project, contract_type).at(addresses[name], fetch_from_explorer=False)
    return path, record, addresses, instances


def redeployment_start(path: Path, vault: str, network: str, chain: Any) -> int:
    """After the chain under the keeper was replaced: the block from which Gavel, deployed again
    at the same addresses, is to be indexed, from its record read again (`ape run deploy`
    rewrites it). DeploymentPending while the record does not describe this chain yet (the Vault
    has no code, or already had code before the record's start block: the old chain's record);
    ChainChanged when the record now names another Vault."""
    record = DeploymentRecord.read(path)
    recorded = record.addresses.get("vault", "")
    if recorded.lower() != vault.lower():
        raise ChainChanged(f"{path} now names the Vault {recorded}, the keeper serves {vault}: stopping")
    head, start = int(chain.blocks.head.number), record.start_block
    deployed = len(chain.provider.get_code(vault, block_id=head)) > 0
    earlier = 0 < start <= head + 1 and len(chain.provider.get_code(vault, block_id=start - 1)) > 0
    if not deployed or start > head + 1 or earlier:
        raise DeploymentPending(
            f"the chain was replaced and {path} does not record Gavel's Vault {vault} on it yet: waiting for "
            f"`ape run deploy --network {network}`"
        )
    return start


def _keeper_for(
    market: MarketSettings, settings: KeeperSettings, project: Any, chain: Any, signer: Any, outbox: Path, rpc: Any
) -> Keeper:
    from ape.contracts import ContractContainer, ContractInstance

    from scripts._deployment import npm_artifact

    path, record, addresses, instances = market_contracts(market, settings.network, project, chain)
    # Only the factory's address is used (pairs are computed from it), so no code check.
    instances["uniswap_factory"] = ContractInstance(
        addresses["uniswap_factory"], npm_artifact("@uniswap/v2-core", "UniswapV2Factory")
    )
    instances["uniswap_router"] = ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).at(
        addresses["uniswap_router"]
    )
    routes = routes_for(market, record)
    if any(spec.kind == V3 for spec in routes.values()):
        needed = [k for k in ("taker_v3", "uniswap_v3_router", "uniswap_v3_quoter") if k not in addresses]
        if needed:
            raise ConfigError(f"{path} has no {', '.join(needed)}, needed by the V3 routes of {market.label!r}")
        instances["taker_v3"] = project.UniswapV3Taker.at(addresses["taker_v3"])
        instances["uniswap_v3_router"] = ContractInstance(
            addresses["uniswap_v3_router"], npm_artifact("@uniswap/v3-periphery", "SwapRouter")
        )
        instances["uniswap_v3_quoter"] = ContractInstance(
            addresses["uniswap_v3_quoter"], npm_artifact("@uniswap/v3-periphery", "QuoterV2")
        )
    native = market.native_asset or ("weth" if "weth" in addresses else None)
    if native is None:
        raise ConfigError(
            f"config key 'markets.{market.label}.native_asset': required ({path} names no weth), to price gas"
        )
    store = Store(market.mirror, record.chain_id, addresses["vault"], record.start_block, outbox=outbox)
    return Keeper(
        Contracts(**instances),
        signer,
        chain,
        store,
        policy_from(settings),
        project,
        rpc=rpc,
        native_asset=resolve_token(native, record, f"markets.{market.label}.native_asset"),
        routes=routes,
        name=market.label,
        redeployed_at=lambda: redeployment_start(path, addresses["vault"], settings.network, chain),
    )


def policy_from(settings: KeeperSettings) -> Policy:
    return Policy(
        kick_mode=settings.kick_mode,
        kick_margin_bps=settings.kick_margin_bps,
        kick_take_bps=settings.kick_take_bps,
        take_min_profit_bps=settings.take_min_profit_bps,
        take_lookahead_seconds=settings.take_lookahead_seconds,
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


@dataclass
class Quiet:
    """One market since its last heartbeat line: when that was, and what it has done since."""

    at: float = -math.inf  # [s, the loop's clock]: never, so the first tick gives one
    ticks: int = 0
    events: int = 0
    unhealthy: frozenset[str] = frozenset()  # as of the last tick: an unchanged set is not news


@dataclass
class TickLog:
    """What ticks log (the CLI's loop and the Silverback bot alike): a tick that did, or failed
    at, something logs one short line; a market that only follows the chain logs a heartbeat
    every `heartbeat_seconds` [s, by `clock`] instead, and on its first tick and its first after
    a failed one."""

    heartbeat_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _quiet: dict[str, Quiet] = field(default_factory=dict)

    def failed(self, market: str) -> None:
        self._quiet.pop(market, None)  # the next tick that works says so

    def report(self, market: str, report: TickReport) -> None:
        """The tick's line if it did anything, and the market's heartbeat when one is due."""
        quiet = self._quiet.setdefault(market, Quiet())
        quiet.ticks, quiet.events = quiet.ticks + 1, quiet.events + report.sync.events
        unhealthy = frozenset(report.unhealthy)
        done = tick_news(report, unhealthy != quiet.unhealthy)
        quiet.unhealthy = unhealthy
        if done:
            log.info("tick", extra={"market": market, "checkpoint": report.sync.checkpoint, **done})
        now = self.clock()
        if now - quiet.at >= self.heartbeat_seconds:
            log_heartbeat(market, report, quiet)
            self._quiet[market] = Quiet(at=now, unhealthy=unhealthy)


@dataclass
class Loop:
    """Ticks every market's keeper in turn until stopped, retrying through RPC failures with
    backoff (when every market's tick failed: the node is likely gone)."""

    keepers: list[Keeper]
    metrics: KeeperMetrics
    poll_seconds: float
    max_backoff: float = 30.0
    stopping: bool = False
    tick_log: TickLog = field(default_factory=TickLog)

    def stop(self, *_: object) -> None:
        log.info("stopping after the current tick")
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def run(self, ticks: int | None = None, on_tick: Callable[[TickReport], None] | None = None) -> None:
        """Tick until stopped or `ticks` are done. ChainChanged (the node serves another chain
        than the one indexed) is not retried: it ends the loop, and the caller says why."""
        try:
            self._run(ticks, on_tick)
        finally:
            for keeper in self.keepers:
                keeper.store.close()  # every checkpoint is already committed; this just lets go
        log.info("stopped")

    def _run(self, ticks: int | None, on_tick: Callable[[TickReport], None] | None) -> None:
        backoff, done = self.poll_seconds, 0
        while not self.stopping and (ticks is None or done < ticks):
            failed = 0
            for keeper in self.keepers:
                try:
                    report = keeper.tick()
                except ChainChanged:
                    raise
                except Exception as err:  # noqa: BLE001 - the node went away, a request timed out...
                    failed += 1
                    log.warning("tick failed for market %s: %s", keeper.name, err)
                    self.tick_log.failed(keeper.name)
                    continue
                self.metrics.record(report, keeper.name)
                self.tick_log.report(keeper.name, report)
                if on_tick:
                    on_tick(report)
            if failed == len(self.keepers):
                log.warning("retrying in %.1fs", backoff)
                time.sleep(backoff)
                backoff = min(max(backoff * 2, 0.1), self.max_backoff)  # never a busy loop
                continue
            backoff = self.poll_seconds
            done += 1
            time.sleep(self.poll_seconds)


def tick_news(report: TickReport, unhealthy_changed: bool) -> dict[str, Any]:
    """What a tick did or failed at, for its log line: only what is not nothing (an empty dict
    when it only followed the chain). Auction ids in their short form."""
    news: dict[str, Any] = {
        "rebuilt": report.sync.rebuilt,  # the mirror was rebuilt (a deep reorg, a replaced chain)
        "unhealthy": len(report.unhealthy) if unhealthy_changed else 0,
        "kicked": report.kicked,
        "behind_update": len(report.behind_update),
        "taken": [short_id(i) for i in report.taken],
        "redone": [short_id(i) for i in report.redone],
        "claimed": report.claimed,
        "would_send": [" ".join(shown(part) for part in w.split(" ")) for w in report.would_send],
        "replaced": report.replaced,
        "lost_races": report.lost_races,
        "errors": report.errors,
        "deferred": report.deferred,
        "pending_updates": report.pending_updates,
    }
    news = {key: value for key, value in news.items() if value}
    if news:
        news["ms"] = max(report.timings.values(), default=0.0)  # the tick's last timed step
    return news


def log_heartbeat(market: str, report: TickReport, since: Quiet) -> None:
    log.info(
        "heartbeat",
        extra={
            "market": market,
            "checkpoint": report.sync.checkpoint,
            "lag": report.sync.lag,
            "accounts": report.accounts,
            "unhealthy": len(report.unhealthy),
            "watch": report.watch,
            "ticks": since.ticks,  # since the last heartbeat
            "events": since.events,
        },
    )
