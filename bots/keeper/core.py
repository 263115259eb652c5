"""One keeper, the I/O around the pure decisions: each `tick` brings the mirror up to date,
screens every account's health, confirms candidates with an eth_call, kicks those that pay, and
takes (or redoes) the auctions that pay. The CLI and the Silverback bot both drive this class.

Every transaction is simulated first: a revert there (someone else kicked or took first, the
account recovered) is a lost race, logged, and costs no gas."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bots.keeper.fees import FeeCapExceeded, NonceTracker, fees_for
from bots.keeper.indexer import ApeChainView, Indexer, SyncResult
from bots.keeper.risk import RiskBook
from bots.keeper.store import Store
from bots.keeper.strategy import Auction, KickMode, Pool, decide_kick, plan_take

log = logging.getLogger("gavel.keeper")

WAD = 10**18
GWEI = 10**9
KICK_GAS = 600_000  # [gas] a one-asset kick is ~540k (README's gas table); an estimate for the decision
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
    dry_run: bool = False


@dataclass
class TickReport:
    sync: SyncResult
    accounts: int = 0
    unhealthy: list[str] = field(default_factory=list)
    kicked: list[str] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)
    redone: list[int] = field(default_factory=list)
    lost_races: int = 0
    would_send: list[str] = field(default_factory=list)  # dry run: what it would have sent
    profit: int = 0  # [debt decimals] from takes this tick


class Keeper:
    def __init__(
        self, contracts: Contracts, signer: Any, chain: Any, store: Store, policy: Policy, project: Any
    ) -> None:
        self.c, self.signer, self.chain, self.store, self.policy = contracts, signer, chain, store, policy
        self.project = project
        self.indexer = Indexer(store, ApeChainView(chain, contracts.vault), policy.confirmations)
        self.nonces = NonceTracker(signer.nonce)
        self.debt_scale = 10 ** contracts.debt_asset.decimals()
        self._assets: list[str] = []
        self._tick_lock = threading.Lock()
        self._decimals: dict[str, int] = {}

    # ------------------------------------------------------------------ the loop body

    def tick(self) -> TickReport:
        """One pass. Ticks never overlap: a block arriving mid-tick waits for it (the Silverback
        bot may call from several threads)."""
        with self._tick_lock:
            return self._tick()

    def _tick(self) -> TickReport:
        report = TickReport(self.indexer.sync())
        book, prices, debt_price = self._book()
        report.accounts = len(book.accounts)
        if book.accounts:
            report.unhealthy = book.candidates(prices, debt_price)
        for account in report.unhealthy:
            self._maybe_kick(account, report)
        for auction_id in self.c.liquidator.activeAuctions():
            self._maybe_take_or_redo(int(auction_id), report)
        return report

    # ------------------------------------------------------------------ risk

    def _book(self) -> tuple[RiskBook, Any, float]:
        assets = [str(a) for a in self.c.vault.collateralAssets()]
        for asset in assets:
            if asset not in self._decimals:
                # Any ERC-20 ABI serves for decimals(); the project's compiled one is at hand.
                self._decimals[asset] = int(self.project.MockERC20.at(asset).decimals())
        self._assets = assets
        thresholds = [int(self.c.vault.collateralParams(a).liquidationThreshold) for a in assets]
        index = int(self.c.vault.borrowIndex())
        positions = {
            account: ([held.get(a.lower(), 0) for a in assets], -(-scaled * index // WAD))
            for account, (held, scaled) in self.store.positions().items()
        }
        book = RiskBook.build(positions, [self._decimals[a] for a in assets], thresholds, len(str(self.debt_scale)) - 1)
        prices = []
        for asset in assets:
            price, status = self.c.oracle.peek(asset)
            # An asset without an Ok price cannot be kicked against: value it at +inf so no
            # account holding it is a candidate until the oracle recovers.
            prices.append(price / WAD if int(status) == OK else np.inf)
        debt_price, debt_status = self.c.oracle.peek(self.c.debt_asset)
        return book, np.array(prices), (debt_price / WAD if int(debt_status) == OK else 0.0)

    # ------------------------------------------------------------------ kicks

    def _maybe_kick(self, account: str, report: TickReport) -> None:
        if self.store.sent("kick", account) and self._still_pending("kick", account):
            return  # sent before a restart and not mined yet: never a second one
        try:
            self.c.vault.liquidate.call(account, sender=self.signer)  # eth_call: costs nothing
        except Exception as err:  # noqa: BLE001 - any revert means there is nothing to kick
            report.lost_races += 1
            log.info("kick %s skipped: %s", account, _reason(err))
            return
        debt = int(self.c.vault.debtOf(account))
        tab_estimate = debt * 11 // 10  # what the decision needs is an order of magnitude
        decision = decide_kick(
            int(self.c.liquidator.incentive(tab_estimate)),
            int(self.c.insurance_fund.coverage()),
            KICK_GAS,
            self._gas_price(),
            self._eth_price_in_debt(),
            self.debt_scale,
            self.policy.kick_margin_bps,
            self.policy.kick_mode,
        )
        if not decision.kick:
            log.info("kick %s not worth it: %s", account, decision.reason)
            return
        if self._send("kick", account, self.c.vault.liquidate, account, report=report):
            report.kicked.append(account)

    # ------------------------------------------------------------------ takes and redos

    def _maybe_take_or_redo(self, auction_id: int, report: TickReport) -> None:
        needs_redo, price, lot, tab = self.c.liquidator.getStatus(auction_id)
        if lot == 0:
            return
        if needs_redo:
            try:
                self.c.liquidator.redo.call(auction_id, sender=self.signer)
            except Exception as err:  # noqa: BLE001
                report.lost_races += 1
                log.info("redo %s skipped: %s", auction_id, _reason(err))
                return
            if self._send("redo", str(auction_id), self.c.liquidator.redo, auction_id, report=report):
                report.redone.append(auction_id)
            return
        asset = str(self.c.liquidator.auctions(auction_id).asset)
        pool = self._pool(asset)
        if pool is None:
            return
        auction = Auction(auction_id, int(price), int(lot), int(tab), 10 ** self._decimals[asset], self.debt_scale)
        plan = plan_take(auction, pool, int(self.c.vault.minDebt()), self.policy.take_min_profit_bps)
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
        try:
            self.c.taker.takeAndSell.call(*args, sender=self.signer)
        except Exception as err:  # noqa: BLE001
            report.lost_races += 1
            log.info("take %s skipped: %s", auction_id, _reason(err))
            return
        if self._send("take", str(auction_id), self.c.taker.takeAndSell, *args, report=report):
            report.taken.append(auction_id)
            report.profit += plan.profit

    def _pool(self, asset: str) -> Pool | None:
        pair_address = self.c.uniswap_factory.getPair(asset, self.c.debt_asset)
        if int(pair_address, 16) == 0:
            return None
        pair = self.project.IUniswapV2Pair.at(pair_address)
        r0, r1, _ = pair.getReserves()
        return Pool(r0, r1) if str(pair.token0()).lower() == asset.lower() else Pool(r1, r0)

    # ------------------------------------------------------------------ execution

    def _send(self, kind: str, target: str, method: Any, *args: Any, report: TickReport) -> bool:
        if self.policy.dry_run:
            report.would_send.append(f"{kind} {target}")
            log.info("dry run: would send %s %s", kind, target)
            return False
        try:
            fees = fees_for(
                self._base_fee(), int(self.policy.priority_fee_gwei * GWEI), int(self.policy.max_fee_gwei * GWEI)
            )
        except FeeCapExceeded as err:
            log.warning("%s %s not sent: %s", kind, target, err)
            return False
        self.nonces.resync(self.signer.nonce)
        nonce = self.nonces.take()
        try:
            receipt = method(
                *args, sender=self.signer, nonce=nonce, max_fee=fees.max_fee, max_priority_fee=fees.priority_fee
            )
        except Exception as err:  # noqa: BLE001 - a revert on-chain after a good simulation: raced in the same block
            self.nonces.resync(self.signer.nonce)
            report.lost_races += 1
            log.info("%s %s lost the race on-chain: %s", kind, target, _reason(err))
            return False
        self.store.record_sent(kind, target, receipt.txn_hash, nonce, receipt.block_number)
        log.info("%s %s sent in block %s (%s gas)", kind, target, receipt.block_number, receipt.gas_used)
        return True

    def _still_pending(self, kind: str, target: str) -> bool:
        sent = self.store.sent(kind, target)
        if sent is None:
            return False
        _, nonce, _ = sent
        return bool(nonce >= self.signer.nonce)  # the chain has not used that nonce yet

    def _base_fee(self) -> int:
        return int(self.chain.blocks.head.base_fee or 0)

    def _gas_price(self) -> int:
        return self._base_fee() + int(self.policy.priority_fee_gwei * GWEI)

    def _eth_price_in_debt(self) -> int:
        """[wad debt tokens per ETH]: the first collateral's oracle price stands in for ETH (it
        is WETH in every deployment Gavel ships); without one, gas is priced at $2,000."""
        for asset in self._assets:
            price, status = self.c.oracle.peek(asset)
            if int(status) == OK and self._decimals.get(asset) == 18:
                return int(price)
        return 2_000 * WAD


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:200]
