"""One keeper, the I/O around the pure decisions: each `tick` brings the mirror up to date,
screens every account's health, confirms candidates with an eth_call, kicks those that pay, and
takes (or redoes) the auctions that pay. The CLI and the Silverback bot both drive this class.

Every transaction is simulated against the pending block first: a revert there (someone else
kicked or took first, the account recovered) is a lost race, logged, and costs no gas. Sending,
following and replacing transactions is `sender.Sender`'s job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, TypeVar

import numpy as np
from eth_utils.address import to_checksum_address

from bots.keeper.fees import FeeCapExceeded
from bots.keeper.indexer import ApeChainView, Indexer, SyncResult
from bots.keeper.risk import RiskBook
from bots.keeper.sender import Prepared, Sender
from bots.keeper.store import Store
from bots.keeper.strategy import Auction, KickMode, Pool, decide_kick, kick_incentive, plan_take
from bots.keeper.uniswap import pair_for, sort_tokens
from bots.keeper.units import gas_cost_in_debt_up

log = logging.getLogger("gavel.keeper")
T = TypeVar("T")

WAD = 10**18
GWEI = 10**9
OK = 0  # IOracleAdapter.Status.Ok


@dataclass(frozen=True)
class Contracts:
    """The deployed contracts the keeper talks to (Ape contract instances)."""

    vault: Any
    liquidator: Any
    oracle: Any
    insurance_fund: Any
    debt_asset: Any
    taker: Any
    uniswap_factory: Any
    uniswap_router: Any


@dataclass(frozen=True)
class Policy:
    kick_mode: KickMode = KickMode.PROFIT
    kick_margin_bps: int = 2_000
    take_min_profit_bps: int = 50
    max_fee_gwei: float = 200.0
    priority_fee_gwei: float = 1.0
    confirmations: int = 0
    replace_after_blocks: int = 3
    use_flash_taker: bool = True  # False: pay takes from the signer's own debt-asset balance
    dry_run: bool = False
    kicks_per_tick: int = 100  # kicks sent in one tick at most, largest value at risk first
    takes_per_tick: int = 20  # takes and redos in one tick at most, largest tab first
    tick_seconds: float = 10.0  # a tick stops starting new work after this long (the rest waits)
    auctions_per_tick: int = 2_000  # live auctions read per tick (one call per 500), oldest first


@dataclass
class TickReport:
    sync: SyncResult
    accounts: int = 0
    unhealthy: list[str] = field(default_factory=list)
    kicked: list[str] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)
    redone: list[int] = field(default_factory=list)
    claimed: int = 0  # [debt decimals] credited incentives claimed this tick
    lost_races: int = 0
    would_send: list[str] = field(default_factory=list)  # dry run: what it would have sent
    replaced: int = 0  # transactions re-sent with higher fees after sitting in the pool
    profit: int = 0  # [debt decimals] planned profit of takes mined this tick
    errors: list[str] = field(default_factory=list)  # "<step> <target>: <error>", one per failure
    deferred: int = 0  # candidates and auctions left for the next tick (budget or time ran out)
    skipped: bool = False  # another tick was still running: this one did nothing


@dataclass(frozen=True)
class LiveAuction:
    """One live auction as `auctionViews` reported it this tick."""

    id: int
    collateral: str  # checksummed
    needs_redo: bool
    price: int  # [wad debt tokens per whole collateral token]
    lot: int  # [collateral decimals]
    tab: int  # [debt decimals]


class Keeper:
    def __init__(
        self, contracts: Contracts, signer: Any, chain: Any, store: Store, policy: Policy, project: Any
    ) -> None:
        self.c, self.signer, self.chain, self.store, self.policy = contracts, signer, chain, store, policy
        self.project = project
        self.indexer = Indexer(store, ApeChainView(chain, contracts.vault, contracts.liquidator), policy.confirmations)
        self.sender = Sender(
            signer,
            chain,
            store,
            int(policy.max_fee_gwei * GWEI),
            int(policy.priority_fee_gwei * GWEI),
            policy.replace_after_blocks,
        )
        self.debt_scale = 10 ** contracts.debt_asset.decimals()
        self._assets: list[str] = []
        self._tick_lock = threading.Lock()
        self._decimals: dict[str, int] = {}
        self._cache: dict[str, Any] = {}  # this tick's reads (see _per_tick)
        self._penalties: dict[str, int] = {}  # [wad] by collateral (lower-case), this tick
        # This tick's mirror: {account (lower-case): ([collateral per asset in _assets], debt)}.
        self._positions: dict[str, tuple[list[int], int]] = {}
        self._walk_from = 0  # where the next auction walk starts in the store's list

    # ------------------------------------------------------------------ the loop body

    def tick(self, wait: bool = True) -> TickReport:
        """One pass. Ticks never overlap. With `wait=False` (the Silverback bot, one call per
        block), a tick that finds another still running returns at once, `skipped`: the running
        one has this block's work in hand, and queueing blocks behind it would only make the
        keeper fall further behind."""
        if not self._tick_lock.acquire(blocking=wait):
            return TickReport(SyncResult(-1, -1, 0, False), skipped=True)
        try:
            return self._tick()
        finally:
            self._tick_lock.release()

    def _tick(self) -> TickReport:
        """Sync (a failure here ends the tick: nothing else can be trusted without the mirror),
        then every other step on its own: a failure on one account, auction or request is logged,
        counted in `errors`, and the tick goes on with the rest."""
        report = TickReport(self.indexer.sync())
        deadline = time.monotonic() + self.policy.tick_seconds
        self._cache = {}
        self._guard(report, "settle", "outbox", self._settle, report)  # first: nothing in flight is sent again
        kicks: list[str] = []
        book = self._guard(report, "screen", "book", self._book)
        if book is not None:
            risk, prices, debt_price = book
            report.accounts = len(risk.accounts)
            if risk.accounts:
                report.unhealthy = risk.candidates(prices, debt_price)
                kicks = report.unhealthy[: self.policy.kicks_per_tick]
        auctions = self._guard(report, "walk", "auctions", self._live_auctions) or []
        takes = auctions[: self.policy.takes_per_tick]
        report.deferred = len(report.unhealthy) - len(kicks) + len(auctions) - len(takes)
        # Kicks and takes alternate, each within its own budget, so a crash's kicks never starve
        # the takes that recover the debt (nor the other way round).
        work = [item for pair in zip_longest(kicks, takes) for item in pair if item is not None]
        for done, item in enumerate(work):
            if time.monotonic() > deadline:
                report.deferred += len(work) - done
                log.warning("tick out of time: %s items left for the next tick", len(work) - done)
                break
            if isinstance(item, str):
                self._guard(report, "kick", item, self._maybe_kick, item, report)
            else:
                self._guard(report, "take", str(item.id), self._maybe_take_or_redo, item, report)
        self._guard(report, "claim", self.signer.address, self._maybe_claim, report)
        self._guard(report, "settle", "outbox", self._settle, report)  # an automining chain mined it already
        return report

    def _guard(self, report: TickReport, step: str, target: str, fn: Callable[..., T], *args: Any) -> T | None:
        """`fn(*args)`, or None after logging and counting its failure."""
        try:
            return fn(*args)
        except Exception as err:  # noqa: BLE001 - one failure must not stop the rest of the tick
            report.errors.append(f"{step} {target}: {_reason(err)}")
            log.warning("%s %s failed: %s", step, target, _reason(err))
            return None

    def _settle(self, report: TickReport) -> None:
        if self.policy.dry_run:
            return
        settled = self.sender.settle()
        report.lost_races += len(settled.reverted)  # raced inside the same block
        report.replaced += len(settled.replaced)
        report.profit += sum(tx.expected_profit for tx in settled.mined if tx.kind == "take")

    # ------------------------------------------------------------------ risk

    def _book(self) -> tuple[RiskBook, Any, float]:
        assets = [str(a) for a in self.c.vault.collateralTokens()]
        self._assets = assets
        params = [self.c.vault.collateralParams(a) for a in assets]
        thresholds = [int(p.liquidationThreshold) for p in params]
        self._penalties = {a.lower(): int(p.penalty) for a, p in zip(assets, params, strict=True)}
        index = int(self.c.vault.borrowIndex())
        positions = {
            account: ([held.get(a.lower(), 0) for a in assets], -(-scaled * index // WAD))
            for account, (held, scaled) in self.store.positions().items()
        }
        self._positions = positions
        decimals = [self._decimals_of(a) for a in assets]
        book = RiskBook.build(positions, decimals, thresholds, len(str(self.debt_scale)) - 1)
        prices = []
        for asset in assets:
            price, status = self.c.oracle.peek(asset)
            # An asset without an Ok price cannot be kicked against: value it at +inf so no
            # account holding it is a candidate until the oracle recovers.
            prices.append(price / WAD if int(status) == OK else np.inf)
            self._cache[f"price:{asset.lower()}"] = int(price) if int(status) == OK else 0
        debt_price, debt_status = self.c.oracle.peek(self.c.debt_asset)
        return book, np.array(prices), (debt_price / WAD if int(debt_status) == OK else 0.0)

    def _per_tick(self, key: str, read: Callable[[], T]) -> T:
        """A value read once per tick (fees, the fund's coverage, the incentive's terms, pools...)."""
        if key not in self._cache:
            self._cache[key] = read()
        value: T = self._cache[key]
        return value

    def _decimals_of(self, asset: str) -> int:
        """A collateral's decimals, read once (any ERC-20 ABI serves; the project's is at hand)."""
        if asset not in self._decimals:
            self._decimals[asset] = int(self.project.MockERC20.at(asset).decimals())
        return self._decimals[asset]

    # ------------------------------------------------------------------ kicks

    def _maybe_kick(self, account: str, report: TickReport) -> None:
        if self.store.pending_for("kick", account):
            return  # already in flight (perhaps sent before a restart): never a second one
        prepared = self._prepare("kick", account, self.c.vault.liquidate, account, report=report)
        if prepared is None:
            return
        # The mirror's debt (at this tick's index) and the largest penalty among the account's
        # collateral: what the decision needs is an order of magnitude, not the kick's exact tab.
        held, debt = self._positions.get(account.lower(), ([0] * len(self._assets), 0))
        penalties = [self._penalties[a.lower()] for a, amount in zip(self._assets, held, strict=True) if amount > 0]
        penalty = max(penalties, default=0)
        tab_estimate = debt + debt * penalty // WAD
        tip = self._per_tick("tip", lambda: int(self.c.liquidator.tip()))
        chip = self._per_tick("chip", lambda: int(self.c.liquidator.chip()))
        decision = decide_kick(
            kick_incentive(tip + tab_estimate * chip // WAD, tab_estimate, debt),
            self._per_tick("coverage", lambda: int(self.c.insurance_fund.coverage())),
            prepared.gas,
            self._per_tick("gas_price", self.sender.gas_price),
            self._eth_price_in_debt(),
            self.debt_scale,
            self.policy.kick_margin_bps,
            self.policy.kick_mode,
        )
        if not decision.kick:
            log.info("kick %s not worth it: %s", account, decision.reason)
            return
        if self._send(prepared, report=report):
            report.kicked.append(account)

    # ------------------------------------------------------------------ takes and redos

    def _live_auctions(self) -> list[LiveAuction]:
        """The live auctions the mirror knows, read with one `auctionViews` call per 500 and at
        most `auctions_per_tick` of them (the walk resumes where it stopped next tick), largest
        tab first."""
        known = self.store.live_auctions()
        if not known:
            return []
        limit = self.policy.auctions_per_tick
        start = self._walk_from % len(known)
        chosen = (known[start:] + known[:start])[:limit]
        self._walk_from = start + len(chosen)
        live: list[LiveAuction] = []
        for first in range(0, len(chosen), 500):
            batch = chosen[first : first + 500]
            for (auction_id, _, _), view in zip(
                batch, self.c.liquidator.auctionViews([a[0] for a in batch]), strict=True
            ):
                if int(view.lot) > 0:
                    live.append(
                        LiveAuction(
                            auction_id,
                            to_checksum_address(str(view.collateral)),
                            bool(view.needsRedo),
                            int(view.price),
                            int(view.lot),
                            int(view.tab),
                        )
                    )
        live.sort(key=lambda a: a.tab, reverse=True)
        return live

    def _maybe_take_or_redo(self, live: LiveAuction, report: TickReport) -> None:
        auction_id, asset = live.id, live.collateral
        if self.store.pending_for("take", str(auction_id)) or self.store.pending_for("redo", str(auction_id)):
            return
        if live.needs_redo:
            prepared = self._prepare("redo", str(auction_id), self.c.liquidator.redo, auction_id, report=report)
            if prepared is not None and self._send(prepared, report=report):
                report.redone.append(auction_id)
            return
        pool = self._pool(asset)
        if pool is None:
            return
        auction = Auction(auction_id, live.price, live.lot, live.tab, 10 ** self._decimals_of(asset), self.debt_scale)
        dust = self._per_tick("min_debt", lambda: int(self.c.vault.minDebt()))
        if not self.policy.use_flash_taker:
            self._take_from_inventory(auction, asset, pool, dust, report)
            return
        plan = plan_take(auction, pool, dust, self.policy.take_min_profit_bps)
        if plan is None:
            return
        args = (
            auction_id,
            plan.max_collateral,
            plan.max_price,
            self.c.uniswap_router,
            [asset, self.c.debt_asset.address],
            plan.profit // 2,
        )
        prepared = self._prepare("take", str(auction_id), self.c.taker.takeAndSell, *args, report=report)
        if prepared is not None and self._send(prepared, report=report, expected_profit=plan.profit):
            report.taken.append(auction_id)

    def _take_from_inventory(self, auction: Auction, asset: str, pool: Pool, dust: int, report: TickReport) -> None:
        """Buy with the signer's own debt asset and keep the collateral: the same plan, capped by
        the balance; `profit` is then the collateral's worth on the pool less what was paid."""
        budget = int(self.c.debt_asset.balanceOf(self.signer))
        plan = plan_take(auction, pool, dust, self.policy.take_min_profit_bps, budget=budget)
        if plan is None:
            return
        vault = self.c.vault.address  # a take's payment is pulled by the Vault
        if int(self.c.debt_asset.allowance(self.signer, vault)) < plan.owe and not self.store.pending_for(
            "approve", str(vault)
        ):
            approve = self._prepare("approve", str(vault), self.c.debt_asset.approve, vault, 2**256 - 1, report=report)
            if approve is None or not self._send(approve, report=report):
                return
        # Simulated against the pending block, the take already sees an approval sent just before.
        args = (auction.id, plan.max_collateral, plan.max_price, self.signer.address, b"")
        prepared = self._prepare("take", str(auction.id), self.c.liquidator.take, *args, report=report)
        if prepared is not None and self._send(prepared, report=report, expected_profit=plan.profit):
            report.taken.append(auction.id)

    # ------------------------------------------------------------------ incentives

    def _maybe_claim(self, report: TickReport) -> None:
        """Kicks and redos are credited, not paid: claim what the fund can pay once it is worth
        more than the claim's gas (the credit stays on-chain, so a skipped claim loses nothing)."""
        owed = int(self.c.liquidator.claimable(self.signer))
        if owed == 0 or self.store.pending_for("claim", self.signer.address):
            return
        payable = min(owed, int(self.c.debt_asset.balanceOf(self.c.insurance_fund)))
        prepared = self._prepare("claim", self.signer.address, self.c.liquidator.claimIncentive, report=report)
        if prepared is None:
            return
        gas_cost = gas_cost_in_debt_up(
            prepared.gas, self.sender.gas_price(), self._eth_price_in_debt(), self.debt_scale
        )
        if payable <= gas_cost:
            return
        if self._send(prepared, report=report):
            report.claimed += payable

    def _pool(self, asset: str) -> Pool | None:
        """The asset's Uniswap V2 pool against the debt asset, read once per tick."""
        return self._per_tick(f"pool:{asset.lower()}", lambda: self._read_pool(asset))

    def _read_pool(self, asset: str) -> Pool | None:
        pair_address = pair_for(str(self.c.uniswap_factory.address), asset, str(self.c.debt_asset.address))
        if not self.chain.provider.get_code(pair_address):
            return None  # no pool for this asset: nowhere to sell, so no take
        r0, r1, _ = self.project.IUniswapV2Pair.at(pair_address).getReserves()
        token0, _ = sort_tokens(asset, str(self.c.debt_asset.address))
        return Pool(r0, r1) if token0.lower() == asset.lower() else Pool(r1, r0)

    # ------------------------------------------------------------------ execution

    def _prepare(self, kind: str, target: str, method: Any, *args: Any, report: TickReport) -> Prepared | None:
        """The call, simulated against the pending block; None (a lost race, no gas spent) if it
        would revert."""
        try:
            return self.sender.prepare(kind, target, method, *args)
        except Exception as err:  # noqa: BLE001 - any revert means someone else got there first
            report.lost_races += 1
            log.info("%s %s skipped: %s", kind, target, _reason(err))
            return None

    def _send(self, prepared: Prepared, report: TickReport, expected_profit: int = 0) -> bool:
        if self.policy.dry_run:
            report.would_send.append(f"{prepared.kind} {prepared.target}")
            log.info("dry run: would send %s %s", prepared.kind, prepared.target)
            return False
        try:
            fees = self.sender.fees_now()
        except FeeCapExceeded as err:
            log.warning("%s %s not sent: %s", prepared.kind, prepared.target, err)
            return False
        return self.sender.send(prepared, fees, expected_profit) is not None

    def _eth_price_in_debt(self) -> int:
        """[wad debt tokens per ETH]: the first 18-decimal collateral's oracle price, as this
        tick's screen read it, stands in for ETH (it is WETH in every deployment Gavel ships);
        without one, gas is priced at $2,000."""
        for asset in self._assets:
            price = self._cache.get(f"price:{asset.lower()}", 0)
            if price and self._decimals.get(asset) == 18:
                return int(price)
        return 2_000 * WAD


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:200]
