"""One keeper, the I/O around the pure decisions: each `tick` brings the mirror (and the in-memory
risk book beside it) up to date from the block's events, reads the market in one JSON-RPC batch,
finds the unhealthy accounts from the liquidation-price index, simulates their kicks in one
request and sends those that pay in one batch, then takes (or redoes) the auctions that pay. After
the urgent work it rebuilds the index at the new prices and prepares the watch list: the accounts
a k-sigma fall would put under, their kicks simulated at that price. An oracle update still in
the node's pool is simulated, and the kicks it will make possible are sent to land right behind
it in the same block. The CLI and the Silverback bot both drive this class.

Every transaction is simulated against the pending block first: a revert there costs no gas, and
is logged with its reason, decoded from the contracts' custom errors. It is a lost race when the
reason says the work is done (someone else kicked or took first, the account recovered), else an
error (reverts.RACES). Sending,
following and replacing transactions is `sender.Sender`'s job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from eth_utils.address import to_checksum_address

from bots.keeper.fees import FeeCapExceeded, Fees
from bots.keeper.indexer import ApeChainView, Indexer, SyncResult
from bots.keeper.logs import shown
from bots.keeper.market import GET_STATUS, PEEK, MarketReader, MarketState, View
from bots.keeper.mempool import PendingTx, TxPool
from bots.keeper.reverts import Revert, RevertDecoder
from bots.keeper.risk import Floats, RiskBook, Screen, Volatility
from bots.keeper.routes import V2, V3, Quotes, RouteSpec, V2Path, quote_sizes
from bots.keeper.rpc import HttpJsonRpc, RpcError
from bots.keeper.sender import Call, Prepared, Sender, expected_gas
from bots.keeper.signing import signer_for
from bots.keeper.status import short_id
from bots.keeper.store import CollateralSet, DebtSet, SentTx, Store, Update
from bots.keeper.strategy import (
    Auction,
    KickMode,
    LiveAuction,
    Pool,
    Route,
    TakePlan,
    decide_kick,
    gas_floor,
    kick_gas_part,
    kick_incentive,
    plan_take,
    selling_order,
)
from bots.keeper.uniswap import pair_for, sort_tokens
from bots.keeper.units import div_up, gas_cost_in_debt_down, gas_cost_in_debt_up

log = logging.getLogger("gavel.keeper")
T = TypeVar("T")

WAD = 10**18
GWEI = 10**9
LIQUIDATE = View("liquidate(address)", ("address",), ("uint256[]",))
GET_RESERVES = View("getReserves()", (), ("uint112", "uint112", "uint32"))
QUOTE_EXACT_INPUT = View("quoteExactInput(bytes,uint256)", ("bytes", "uint256"), ("uint256",))  # QuoterV2: first word
# The liquidator pays gas it measures on-chain; of a transaction's simulated gas it sees about
# this share [%] (measured in tests/protocol/test_liquidate.py and test_flash_take.py), and of a
# take at most four fifths of TAKE_GAS_PAID (its constant: refunds are not paid).
KICK_GAS_COUNTED, TAKE_GAS_COUNTED, TAKE_GAS_PAID = 93, 85, 500_000
TAKE_GAS_BORNE = 100_000  # the liquidator's: what a take ending an auction bears of its own gas
# [bps] above the price a flash take was planned at, what it may pay: in congestion a lot's floor
# moves with the base fee (its take gas, `_gasFloor`), which falls by up to an eighth a block
# between the head the take is planned at and the block it is mined in; the taker's minimum
# profit (half the planned one) still bounds what paying more can cost.
FLASH_PRICE_SLACK_BPS = 500
UPDATE_TARGETS_BLOCKS = 256  # how often the oracle's sources are read again (governance may change them)
# A price feed that answers latestRoundData() with (1, sload(0), sload(1), sload(1), 1) whatever it
# is asked: put at a feed's address in a simulation's state override, it makes the oracle see a
# stressed price (slot 0, in the feed's decimals) updated at slot 1's time. Hand-assembled:
#   mstore(0x00, 1) mstore(0x20, sload(0)) mstore(0x40, sload(1)) mstore(0x60, sload(1))
#   mstore(0x80, 1) return(0, 0xa0)
STRESS_FEED_CODE = "0x600160005260005460205260015480604052606052600160805260a06000f3"


@dataclass(frozen=True)
class Contracts:
    """The deployed contracts the keeper talks to (Ape contract instances)."""

    vault: Any
    liquidator: Any
    oracle: Any
    insurance_fund: Any
    debt_asset: Any
    taker: Any  # UniswapV2Taker
    uniswap_factory: Any
    uniswap_router: Any
    taker_v3: Any = None  # UniswapV3Taker, SwapRouter and QuoterV2: only for markets with V3 routes
    uniswap_v3_router: Any = None
    uniswap_v3_quoter: Any = None


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
    kicks_per_tick: int = 1_000  # kicks sent in one tick at most, largest value at risk first
    takes_per_tick: int = 100  # takes and redos sent in one tick at most (order: strategy.selling_order)
    tick_seconds: float = 10.0  # a tick stops starting new work after this long (the rest waits)
    auctions_per_tick: int = 2_000  # live auctions read per tick (one call per 500), oldest first
    watch_sigmas: float = 3.0  # the watch list: accounts a fall of this many standard deviations...
    watch_rounds: int = 3  # ...over this many oracle rounds would put under
    watch_simulations_per_tick: int = 500  # watched kicks simulated (at the stressed price) per tick
    watch_pool: bool = True  # kick behind oracle updates still in the node's pool, in their block
    take_lookahead_seconds: int = 24  # no take an auction would refuse (needs a redo) this much later
    # What a kick is expected to earn besides its incentive: this share of the tab, from taking the
    # auction it opens (the auction's discount pays the taker; the keeper is usually first there).
    kick_take_bps: int = 50


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
    declined_kicks: int = 0  # kicks left unsent: their incentive did not pay for their gas
    declined_takes: int = 0  # takes left unsent: their profit did not pay for their gas
    would_send: list[str] = field(default_factory=list)  # dry run: what it would have sent
    replaced: int = 0  # transactions re-sent with higher fees after sitting in the pool
    profit: int = 0  # [debt decimals] planned profit of takes mined this tick
    errors: list[str] = field(default_factory=list)  # "<step> <target>: <error>", one per failure
    deferred: int = 0  # candidates and auctions left for the next tick (budget or time ran out)
    skipped: bool = False  # another tick was still running: this one did nothing
    screen_path: str = ""  # "index": candidates by binary search; "rebuild": the index was rebuilt first
    checked: int = 0  # accounts checked exactly by the screen
    watch: int = 0  # accounts on the watch list
    watch_ready: int = 0  # of them, with a kick simulated at the stressed price, ready to sign
    timings: dict[str, float] = field(default_factory=dict)  # [ms] from the tick's start: sync, read, screen, kicks
    pending_updates: int = 0  # oracle updates found in the node's pool (not yet mined) this tick
    behind_update: list[str] = field(default_factory=list)  # of `kicked`: sent to land right after one


class Keeper:
    def __init__(
        self,
        contracts: Contracts,
        signer: Any,
        chain: Any,
        store: Store,
        policy: Policy,
        project: Any,
        rpc: HttpJsonRpc | None = None,
        native_asset: str | None = None,
        routes: dict[str, RouteSpec] | None = None,
        name: str = "gavel",
        redeployed_at: Callable[[], int] | None = None,
    ) -> None:
        """`rpc` is the node's JSON-RPC over HTTP (default: the Ape provider's URI), for the
        batched reads, simulations and sends. `native_asset`: the wrapped native token (WETH on
        Ethereum), priced by the market's oracle, so gas can be priced in the debt asset; None
        counts gas as free (every kick the incentive pays is sent). `routes`: collateral ->
        where takes sell it (default: its direct Uniswap V2 pair with the debt asset). `name`
        labels this market in logs and metrics. `redeployed_at`: where Gavel was deployed again on a
        chain that replaced the indexed one (see Indexer)."""
        self.c, self.signer, self.chain, self.store, self.policy = contracts, signer, chain, store, policy
        self.name, self.native_asset = name, native_asset
        self.routes = {asset.lower(): route for asset, route in (routes or {}).items()}
        self.project = project
        self.rpc = rpc or HttpJsonRpc(chain.provider.http_uri)
        view = ApeChainView(chain, contracts.vault, contracts.liquidator)
        self.indexer = Indexer(store, view, policy.confirmations, redeployed_at=redeployed_at)
        self.sender = Sender(
            signer_for(signer, chain.provider.network.ecosystem),
            chain,
            store,
            int(policy.max_fee_gwei * GWEI),
            int(policy.priority_fee_gwei * GWEI),
            policy.replace_after_blocks,
            self.rpc,
            RevertDecoder.from_project(project),
        )
        self.market = MarketReader(
            self.rpc, str(contracts.vault.address), str(contracts.oracle.address), str(contracts.debt_asset.address)
        )
        self.debt_scale = 10 ** contracts.debt_asset.decimals()
        self._tick_lock = threading.Lock()
        self._decimals: dict[str, int] = {}
        self._cache: dict[str, Any] = {}  # this tick's reads (see _per_tick)
        self.state: MarketState | None = None  # this tick's market
        self.book: RiskBook | None = None  # every mirrored account, in arrays (None: load from the store)
        self.screen: Screen | None = None
        self.volatility = Volatility()
        self.watch: dict[str, tuple[int, Prepared]] = {}  # account -> (block simulated at, its kick)
        # The mirror block (and reset generation) the book reflects: another worker sharing the
        # mirror may index blocks this one never saw (see _catch_up_book).
        self._book_block, self._book_generation = -1, 0
        self._feeds: dict[str, list[Any]] = {}
        self.txpool = TxPool(self.rpc)
        self._warned_no_overrides = False
        # (block read at, the assets then, where their price updates are sent): see update_targets
        self._update_targets: tuple[int, tuple[str, ...], set[str]] = (0, (), set())
        self._updates_seen: dict[str, None] = {}  # pending updates already kicked behind, oldest first
        self._walk_from = 0  # where the next auction walk starts in the store's list
        self._kicked_at: dict[str, int] = {}  # account -> block our mined kick of it is in, until indexed
        # What `_say` said this tick and the last: a condition that holds tick after tick (a kick
        # that does not pay, fees over the cap) gets one line, not one a tick.
        self._said_now: set[str] = set()
        self._said_before: set[str] = set()

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
        started = time.perf_counter()
        deadline = time.monotonic() + self.policy.tick_seconds
        self._catch_up_book()
        self._said_before, self._said_now = self._said_now, set()
        report = TickReport(self.indexer.sync(self._on_updates))
        report.timings["sync"] = _ms(started)
        self._book_block = report.sync.checkpoint
        if report.sync.rebuilt:
            self._forget_what_the_chain_said()
        self._cache = {}
        self.state = self._guard(report, "read", "market", self.market.read, report.sync.head)
        report.timings["read"] = _ms(started)
        kicks: list[str] = []
        if self.state is not None and self._guard(report, "screen", "book", self._screen, self.state, report):
            kicks = report.unhealthy[: self.policy.kicks_per_tick]
        report.timings["screen"] = _ms(started)
        self._guard(report, "settle", "outbox", self._settle, report)  # nothing in flight is sent again
        auctions = self._guard(report, "walk", "auctions", self._live_auctions) or []
        report.deferred = len(report.unhealthy) - len(kicks)
        # Kicks first, all in one batch (well under a second for a thousand), then the takes,
        # each within its own budget: a crash's kicks never starve the takes that recover the
        # debt, nor the other way round.
        if kicks and time.monotonic() > deadline:
            report.deferred += len(kicks)
            kicks = []
        if kicks:
            self._guard(report, "kick", "batch", self._kick_all, kicks, report)
            report.timings["kicks"] = _ms(started)
        if self.policy.watch_pool and self.state is not None and self.screen is not None:
            self._guard(report, "kick", "behind pending update", self._kick_behind_updates, self.state, report)
        # Every live auction is looked at (pricing one is arithmetic on this tick's reads), and
        # `takes_per_tick` bounds what is sent: in a crash the largest auctions may not pay yet
        # while smaller ones do, and a cap on those looked at would never reach them.
        # Without this tick's prices no discount is known: selling_order then goes by tab.
        prices = dict(zip(self.state.assets, self.state.prices, strict=True)) if self.state is not None else {}
        auctions = selling_order(auctions, prices)
        for done, auction in enumerate(auctions):
            if len(report.taken) + len(report.redone) >= self.policy.takes_per_tick:
                report.deferred += len(auctions) - done
                break
            if time.monotonic() > deadline:
                report.deferred += len(auctions) - done
                log.warning("tick out of time: %s auctions left for the next tick", len(auctions) - done)
                break
            self._guard(report, "take", str(auction.id), self._maybe_take_or_redo, auction, report)
        self._guard(report, "claim", self.signer.address, self._maybe_claim, report)
        self._guard(report, "settle", "outbox", self._settle, report)  # an automining chain mined it already
        if self.state is not None and self.book is not None:
            self._guard(report, "watch", "book", self._prepare_watch, self.state, report)
        return report

    def _guard(self, report: TickReport, step: str, target: str, fn: Callable[..., T], *args: Any) -> T | None:
        """`fn(*args)`, or None after logging and counting its failure."""
        try:
            return fn(*args)
        except Exception as err:  # noqa: BLE001 - one failure must not stop the rest of the tick
            report.errors.append(f"{step} {shown(target)}: {_reason(err)}")
            log.warning("%s %s failed: %s", step, shown(target), _reason(err))
            return None

    def _settle(self, report: TickReport) -> None:
        if self.policy.dry_run:
            return
        settled = self.sender.settle()  # every market's transactions: the nonces are the signer's

        def ours(tx: SentTx) -> bool:
            return tx.market in (self.store.market, "")

        for tx, revert in settled.reverted:
            if ours(tx):
                self._failed(report, tx.kind, tx.target, revert, "reverted on-chain")
        report.replaced += sum(1 for tx in settled.replaced if ours(tx))
        mined = [tx for tx in settled.mined if ours(tx)]
        for tx in mined:
            if tx.kind == "kick":
                self._kicked_at[tx.target.lower()] = settled.mined_in[tx.nonce]
        report.profit += sum(tx.expected_profit for tx in mined if tx.kind == "take")

    def _forget_what_the_chain_said(self) -> None:
        """The mirror was rebuilt (a reorg, or a chain replaced under the keeper): so is the book,
        and nothing read from the old chain's blocks (feeds, price history, pool targets) is kept."""
        self.book = None
        self._kicked_at = {}
        self._feeds, self.volatility, self._walk_from = {}, Volatility(), 0
        self._update_targets, self._updates_seen = (0, (), set()), {}

    # ------------------------------------------------------------------ risk

    def _on_updates(self, updates: list[Update]) -> None:
        """The indexer committed these: the book follows (a new collateral asset reloads it)."""
        book = self.book
        if book is None:
            return
        for update in updates:
            if isinstance(update, CollateralSet):
                if not book.knows(update.asset):
                    self.book = None
                    return
                book.set_collateral(update.account.lower(), update.asset, update.amount)
            elif isinstance(update, DebtSet):
                book.set_debt(update.account.lower(), update.scaled)

    def _catch_up_book(self) -> None:
        """Another process sharing this mirror (a second Silverback worker) indexed blocks since
        this one's last tick: the accounts they changed are read back into the book (all of
        them, after a reset). Nothing to do when this process is the mirror's only writer."""
        checkpoint = self.store.checkpoint()
        if self.book is None or checkpoint is None or checkpoint.block == self._book_block:
            return
        if self.store.generation() != self._book_generation:
            self.book = None
            return
        self._fill_book(self.book, self.store.positions(changed_after=self._book_block))

    def _fill_book(self, book: RiskBook, positions: dict[str, tuple[dict[str, int], int]]) -> None:
        for account, (held, scaled) in positions.items():
            for asset, amount in held.items():
                if book.knows(asset):
                    book.set_collateral(account, asset, amount)
            book.set_debt(account, scaled)

    def _load_book(self, state: MarketState) -> RiskBook:
        """The book from the store (at start, after a reorg rebuild, or when the market's assets
        or thresholds change): one pass over every account."""
        book = RiskBook(list(state.assets), list(state.decimals), list(state.thresholds), len(str(self.debt_scale)) - 1)
        self._book_generation = self.store.generation()
        self._fill_book(book, self.store.positions())
        self.book, self.screen = book, Screen(book)
        self.watch = {}
        for asset, decimals in zip(state.assets, state.decimals, strict=True):
            self._decimals[asset] = decimals
        return book

    def _prices(self, state: MarketState) -> tuple[Floats, float]:
        """[USD per whole token] per asset (+inf without an Ok price: no account holding it is a
        candidate until the oracle recovers), and the debt price per scaled unit (see risk.py)."""
        prices = np.array([p / WAD if p > 0 else np.inf for p in state.prices])
        return prices, state.debt_price / WAD * state.borrow_index / WAD

    def _screen(self, state: MarketState, report: TickReport) -> bool:
        book = self.book
        if (
            book is None
            or book.assets != tuple(a.lower() for a in state.assets)
            or list(book.thresholds) != [t / WAD for t in state.thresholds]
        ):
            book = self._load_book(state)
        assert self.screen is not None
        prices, debt_price = self._prices(state)
        for asset, price in zip(state.assets, prices, strict=True):
            self.volatility.observe(asset, float(price))
        found = self.screen.candidates(prices, debt_price)
        report.accounts = len(book.accounts)
        # An account that holds nothing while an auction of its own still sells owes debt that
        # auction gave back: the Vault refuses to kick it (AuctionsLive) until that auction ends.
        selling = {account for _, account, _ in self.store.live_auctions()}
        report.unhealthy = [
            book.accounts[row] for row in found.rows if book.holds_any(row) or book.accounts[row] not in selling
        ]
        report.screen_path, report.checked = found.path, found.checked
        return True

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

    def _kick_all(self, accounts: list[str], report: TickReport, behind: list[PendingTx] | None = None) -> list[str]:
        """Simulate every kick in one request (in sequence, as they will be mined), keep those
        that pay, and send them in one batch, largest value at risk first (so first in nonce
        order, so first into the blocks that follow). `behind`: pending oracle updates the kicks
        must follow in the same block (see _kick_behind_updates). Returns the accounts kicked."""
        in_flight = self.store.pending_targets("kick")  # perhaps sent before a restart: never twice
        # A kick of ours already mined, in a block the mirror has not indexed yet (it stays
        # `confirmations` behind the head): the book still shows the account as it was before it,
        # and a second kick would only revert NotLiquidatable.
        indexed = self._book_block
        self._kicked_at = {a: b for a, b in self._kicked_at.items() if b > indexed}
        todo = [a for a in accounts if a.lower() not in in_flight and a.lower() not in self._kicked_at]
        vault = str(self.c.vault.address)
        calls = [Call("kick", a, vault, LIQUIDATE.data(a)) for a in todo]
        results = self.sender.simulate(calls, behind=[u.call() for u in behind] if behind else None)
        chosen: list[Prepared] = []
        for account, result in zip(todo, results, strict=True):
            if isinstance(result, Revert):
                self._failed(report, "kick", account, result, "would revert")
            else:
                pays = self._guard(report, "kick", account, self._kick_pays, account, result.gas)
                if pays:
                    chosen.append(result)
                elif pays is False:
                    report.declined_kicks += 1
        if self.policy.dry_run:
            report.would_send += [f"kick {p.target}" for p in chosen]
            return []
        if not chosen:
            return []
        try:
            fees = self.sender.fees_now(sum(p.gas for p in chosen))
        except FeeCapExceeded as err:
            self._say("fee cap kicks", logging.WARNING, "%s kicks not sent: %s", len(chosen), err)
            return []
        kicked = [tx.target for tx in self.sender.send_many(chosen, fees, _fees_behind(behind, fees))]
        report.kicked += kicked
        return kicked

    def _kick_behind_updates(self, state: MarketState, report: TickReport) -> None:
        """Oracle updates waiting in the node's pool: the market as it will be once they are
        mined, the accounts that puts under (from the index, at those prices), and their kicks,
        simulated right behind the updates and sent with fees that let the updates go first in
        the same block: the first kick pays no more than the updates (max fee and tip), and the
        rest follow it in nonce order. Each update is acted on once."""
        read_at, assets, targets = self._update_targets
        if assets != state.assets or state.block - read_at >= UPDATE_TARGETS_BLOCKS:
            targets = self.market.update_targets([*state.assets, str(self.c.debt_asset.address)])
            self._update_targets = (state.block, state.assets, targets)
        updates = [u for u in self.txpool.sent_to(targets) if u.hash not in self._updates_seen]
        if not updates:
            return
        report.pending_updates = len(updates)
        self._updates_seen.update(dict.fromkeys(u.hash for u in updates))
        if len(self._updates_seen) > 10_000:  # long mined: forget the oldest half
            self._updates_seen = dict.fromkeys(list(self._updates_seen)[5_000:])
        after = self.market.read_after(state.block, [u.call() for u in updates])
        assert self.book is not None and self.screen is not None
        prices, debt_price = self._prices(after)
        found = self.screen.candidates(prices, debt_price)
        accounts = [self.book.accounts[row] for row in found.rows][: self.policy.kicks_per_tick]
        log.info("%s pending oracle updates put %s accounts under", len(updates), len(accounts))
        if accounts:
            report.behind_update += self._kick_all(accounts, report, behind=updates)

    def _kick_pays(self, account: str, gas: int) -> bool:
        """The kick's incentive against its gas, by the policy. The tab is estimated from the
        book (debt at this tick's index, the largest penalty among the account's collateral):
        the decision needs an order of magnitude, not the kick's exact tab."""
        assert self.book is not None and self.state is not None
        row = self.book.rows[account.lower()]
        debt = int(self.book.debt[row] * self.state.borrow_index / WAD)
        held = self.book.collateral[row]
        penalty = max((p for p, amount in zip(self.state.penalties, held, strict=True) if amount > 0), default=0)
        tab_estimate = debt + debt * penalty // WAD
        tip = self._per_tick("tip", lambda: int(self.c.liquidator.tip()))
        chip = self._per_tick("chip", lambda: int(self.c.liquidator.chip()))
        gas = expected_gas(gas)
        gas_pay = self._kick_gas_pay(gas)
        decision = decide_kick(
            kick_incentive(tip + tab_estimate * chip // WAD, tab_estimate, debt, gas_pay),
            self._per_tick("coverage", lambda: int(self.c.insurance_fund.coverage())),
            gas,
            self._per_tick("gas_price", self.sender.gas_price),
            self._native_price_in_debt(),
            self.debt_scale,
            self.policy.kick_margin_bps,
            self.policy.kick_mode,
            tab_estimate * self.policy.kick_take_bps // 10_000,
            kick_gas_part(gas_pay, tab_estimate),
        )
        if not decision.kick:
            self._say(f"kick {account}", logging.INFO, "kick %s not worth it: %s", account, decision.reason)
        return decision.kick

    # ------------------------------------------------------------------ the watch list

    def _prepare_watch(self, state: MarketState, report: TickReport) -> None:
        """After the urgent work: rebuild the index at this tick's prices if they moved, then list
        the accounts a fall of `watch_sigmas` standard deviations over `watch_rounds` rounds
        (each asset's own EWMA volatility) would put under, and simulate their kicks at those
        prices (the feeds overridden in the simulation) so they are ready to sign."""
        assert self.book is not None and self.screen is not None
        prices, debt_price = self._prices(state)
        falls = np.array(
            [self.volatility.fall(a, self.policy.watch_sigmas, self.policy.watch_rounds) for a in state.assets]
        )
        rows = self.screen.watch(prices, debt_price, falls)
        watched = {self.book.accounts[r] for r in rows}
        self.watch = {a: v for a, v in self.watch.items() if a in watched and state.block - v[0] < 50}
        todo = [a for a in watched if a not in self.watch][: self.policy.watch_simulations_per_tick]
        if todo:
            overrides = self._stress_overrides(state, falls)
            vault = str(self.c.vault.address)
            results = self.sender.simulate([Call("kick", a, vault, LIQUIDATE.data(a)) for a in todo], overrides)
            for account, result in zip(todo, results, strict=True):
                if isinstance(result, Prepared):
                    self.watch[account] = (state.block, result)
        report.watch, report.watch_ready = len(watched), len(self.watch)

    def _stress_overrides(self, state: MarketState, falls: Floats) -> dict[str, Any]:
        """State overrides that put every asset's price `falls` lower: each of its feeds answers
        the stressed price, updated at the head's time."""
        head = self.rpc("eth_getBlockByNumber", [hex(state.block), False])
        now = int(head["timestamp"], 16)
        overrides: dict[str, Any] = {}
        for asset, price, fall in zip(state.assets, state.prices, falls, strict=True):
            if price == 0 or fall <= 0:
                continue
            if asset not in self._feeds:
                self._feeds[asset] = self.market.feeds(asset)
            stressed = int(price * (1.0 - float(fall)))  # [wad]
            for feed in self._feeds[asset]:
                answer = stressed // 10 ** (18 - feed.decimals) if feed.decimals <= 18 else stressed
                overrides[feed.address] = {
                    "code": STRESS_FEED_CODE,
                    "stateDiff": {_slot(0): _slot(answer), _slot(1): _slot(now)},
                }
        return overrides

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
                    price = self._price_seen(view)
                    # A price moved under the view's floor by its gas clears no more than it pays.
                    clears = int(view.clears) if price == int(view.price) else price
                    collateral = to_checksum_address(str(view.collateral))
                    live.append(
                        LiveAuction(
                            auction_id, collateral, bool(view.needsRedo), price, int(view.lot), int(view.tab), clears
                        )
                    )
        return live

    def _price_seen(self, view: Any) -> int:
        """[wad] An auction's price as a take mined next pays it. In congestion a borrower's lot on
        its floor goes below it by its take's unpaid gas (the liquidator's `_gasFloor`), but a node
        that runs a call without a fee at a base fee of 0 (geth, reth) shows it on the floor. A
        view exactly on top * cusp in a block with a base fee gets that part here, at the lowest
        base fee the next block can have (an eighth under the head's), so the price planned is
        never under the one paid. Anvil's views hold it already, below the floor."""
        price = int(view.price)
        base_fee = self._base_fee()
        if not base_fee or str(view.account).lower() == str(self.c.insurance_fund.address).lower():
            return price
        collateral = str(view.collateral)
        cusp = self._per_tick(f"cusp:{collateral}", lambda: int(self.c.liquidator.auctionConfig(collateral).cusp))
        floor = div_up(int(view.top) * cusp, WAD)
        if price != floor or not self._per_tick("gas_asset", self._has_gas_asset):
            return price
        gas = gas_cost_in_debt_down(TAKE_GAS_BORNE, base_fee * 7 // 8, self._native_price_in_debt(), self.debt_scale)
        return gas_floor(floor, gas, int(view.lot), 10 ** self._decimals_of(collateral), self.debt_scale)

    def _maybe_take_or_redo(self, live: LiveAuction, report: TickReport) -> None:
        auction_id, asset = live.id, live.collateral
        if self.store.pending_for("take", str(auction_id)) or self.store.pending_for("redo", str(auction_id)):
            return
        if live.needs_redo:
            prepared = self._prepare("redo", str(auction_id), self.c.liquidator.redo, auction_id, report=report)
            if prepared is not None and self._send(prepared, report=report):
                report.redone.append(auction_id)
            return
        spec = self._route_spec(asset)
        route = self._route(spec, live.lot)
        if route is None:
            return
        scale = 10 ** self._decimals_of(asset)
        auction = Auction(auction_id, live.price, live.lot, live.tab, scale, self.debt_scale, live.clears)
        dust = self._per_tick("min_debt", lambda: int(self.c.vault.minDebt()))
        if not self.policy.use_flash_taker:
            self._take_from_inventory(auction, asset, route, dust, report)
            return
        plan = plan_take(auction, route, dust, self.policy.take_min_profit_bps)
        if plan is None or self._needs_redo_by_mining(auction_id):  # looked ahead only for a take that pays
            return
        path: bytes | list[str] = list(spec.tokens)
        taker, router = self.c.taker, self.c.uniswap_router
        if spec.kind == V3:
            taker, router, path = self.c.taker_v3, self.c.uniswap_v3_router, spec.v3_path()
        max_price = plan.max_price + plan.max_price * FLASH_PRICE_SLACK_BPS // 10_000
        args = (auction_id, plan.max_collateral, max_price, router, path, plan.profit // 2)
        prepared = self._prepare("take", str(auction_id), taker.takeAndSell, *args, report=report)
        if (
            prepared is not None
            and self._take_pays(prepared, auction, plan, report)
            and self._send(prepared, report=report, expected_profit=plan.profit)
        ):
            report.taken.append(auction_id)
            self._sold_into(spec, route, plan.collateral)

    def _needs_redo_by_mining(self, auction_id: int) -> bool:
        """Whether the auction will need a redo `take_lookahead_seconds` after the head: a take
        simulated now but mined after the auction's tail has passed reverts (`AuctionNeedsRedo`),
        and near the tail that is a block away. Such a take waits;
        the next tick redoes the auction. One eth_call with the block's time overridden; a node
        that refuses overrides is answered as "no" (the take's own simulation still runs)."""
        if self.policy.take_lookahead_seconds <= 0 or self.state is None:
            return False
        ahead = self.policy.take_lookahead_seconds
        call = {"to": str(self.c.liquidator.address), "data": GET_STATUS.data(auction_id)}
        try:
            head = self.rpc("eth_getBlockByNumber", ["latest", False])  # this take's, not the tick's
            answer = self.rpc("eth_call", [call, head["number"], {}, {"time": hex(int(head["timestamp"], 16) + ahead)}])
        except RpcError as err:
            if not self._warned_no_overrides:
                self._warned_no_overrides = True
                log.info("no block overrides on eth_call (%s): takes are not looked ahead", err.message)
            return False
        needs_redo = bool(GET_STATUS.decode(answer)[0])
        if needs_redo:
            log.info("take %s waits: the auction needs a redo within %s s", short_id(auction_id), ahead)
        return needs_redo

    def _take_from_inventory(self, auction: Auction, asset: str, pool: Route, dust: int, report: TickReport) -> None:
        """Buy with the signer's own debt asset and keep the collateral: the same plan, capped by
        the balance; `profit` is then the collateral's worth on the pool less what was paid."""
        budget = int(self.c.debt_asset.balanceOf(self.signer))
        plan = plan_take(auction, pool, dust, self.policy.take_min_profit_bps, budget=budget)
        if plan is None or self._needs_redo_by_mining(auction.id):
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
        if (
            prepared is not None
            and self._take_pays(prepared, auction, plan, report)
            and self._send(prepared, report=report, expected_profit=plan.profit)
        ):
            report.taken.append(auction.id)

    def _kick_gas_pay(self, gas: int) -> int:
        """[debt decimals] What the liquidator pays a kick for its gas (its gas at the base fee,
        priced by the oracle), when it has a gas asset: estimated from the kick's simulated gas,
        of which the Vault measures over nine tenths (it leaves out its entry and the call that
        pays)."""
        return self._gas_pay(gas * KICK_GAS_COUNTED // 100)

    def _take_gas_pay(self, gas: int, auction: Auction, plan: TakePlan) -> int:
        """[debt decimals] What the liquidator pays this take for its gas: only a take that ends
        the auction (buys its whole lot or pays its whole tab) is paid, at most four fifths of
        TAKE_GAS_PAID (less the taker contract's own frame, which the liquidator does not see)."""
        if plan.collateral < auction.lot and plan.cleared < auction.tab:
            return 0
        return self._gas_pay(min(gas * TAKE_GAS_COUNTED // 100, TAKE_GAS_PAID * 4 // 5))

    def _gas_pay(self, gas: int) -> int:
        if not self._per_tick("gas_asset", self._has_gas_asset):
            return 0
        return gas_cost_in_debt_down(gas, self._base_fee(), self._native_price_in_debt(), self.debt_scale)

    def _base_fee(self) -> int:
        """[wei] The head's base fee, read once a tick: what the liquidator prices gas at."""
        return self._per_tick("base_fee", lambda: int(self.chain.blocks.head.base_fee or 0))

    def _has_gas_asset(self) -> bool:
        return int(str(self.c.liquidator.gasAsset()), 16) != 0

    def _take_pays(self, prepared: Prepared, auction: Auction, plan: TakePlan, report: TickReport) -> bool:
        """Whether a take's planned profit [debt decimals], with the gas the liquidator pays back
        a take that ends the auction, beats its gas at this tick's price, as a kick's incentive
        must: at a high base fee a small take costs more than it makes."""
        gas = expected_gas(prepared.gas)
        gas_price = self._per_tick("gas_price", self.sender.gas_price)
        cost = gas_cost_in_debt_up(gas, gas_price, self._native_price_in_debt(), self.debt_scale)
        earned = plan.profit + self._take_gas_pay(gas, auction, plan)
        if earned > cost:
            return True
        report.declined_takes += 1
        self._say(
            f"take {prepared.target}",
            logging.INFO,
            "take %s not worth it: profit %s does not beat gas %s",
            shown(prepared.target),
            earned,
            cost,
        )
        return False

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
            prepared.gas, self.sender.gas_price(), self._native_price_in_debt(), self.debt_scale
        )
        if payable <= gas_cost:
            return
        if self._send(prepared, report=report):
            report.claimed += payable

    def _route_spec(self, asset: str) -> RouteSpec:
        """Where takes of `asset` sell: as configured, or its direct V2 pair with the debt asset."""
        return self.routes.get(asset.lower()) or RouteSpec(V2, (asset, str(self.c.debt_asset.address)))

    def _sold_into(self, spec: RouteSpec, route: Route, amount: int) -> None:
        """A take just sent sells `amount` along a V2 route: this tick's later plans see the pairs
        as they will be after it (the reserves were read once, before it), so two takes in one
        block do not both count on the same depth and the second revert on-chain."""
        if spec.kind != V3 and isinstance(route, Pool | V2Path):
            self._cache[f"route:{spec.tokens}"] = route.after_sale(amount)

    def _route(self, spec: RouteSpec, lot: int) -> Route | None:
        """What selling along `spec` returns: a V2 path's reserves (read once per tick), or a V3
        path's quotes over this lot; None when a pair does not exist or the quoter refuses."""
        if spec.kind == V3:
            return self._v3_quotes(spec, lot)
        return self._per_tick(f"route:{spec.tokens}", lambda: self._read_v2_path(spec))

    def _read_v2_path(self, spec: RouteSpec) -> Route | None:
        """Every pair's reserves in one batch; one pair is a Pool (its best size in closed form)."""
        factory = str(self.c.uniswap_factory.address)
        pairs = [pair_for(factory, a, b) for a, b in spec.pairs()]
        reserves = GET_RESERVES.data()
        answers = self.rpc.batch([("eth_call", [{"to": pair, "data": reserves}, "latest"]) for pair in pairs])
        pools = []
        for (token_in, token_out), answer in zip(spec.pairs(), answers, strict=True):
            if not isinstance(answer, str) or len(answer) < 2 + 64 * 3:
                return None  # no pair there (no code answers "0x"): nowhere to sell, so no take
            r0, r1, _ = GET_RESERVES.decode(answer)
            token0, _ = sort_tokens(token_in, token_out)
            pools.append(Pool(r0, r1) if token0.lower() == token_in.lower() else Pool(r1, r0))
        return pools[0] if len(pools) == 1 else V2Path(tuple(pools))

    def _v3_quotes(self, spec: RouteSpec, lot: int) -> Route | None:
        if self.c.uniswap_v3_quoter is None or self.c.taker_v3 is None or self.c.uniswap_v3_router is None:
            log.warning("a V3 route for %s, but the deployment has no V3 quoter, router or taker", spec.tokens[0])
            return None
        quoter, path, sizes = str(self.c.uniswap_v3_quoter.address), spec.v3_path(), quote_sizes(lot)
        answers = self.rpc.batch(
            [("eth_call", [{"to": quoter, "data": QUOTE_EXACT_INPUT.data(path, size)}, "latest"]) for size in sizes]
        )
        measured = [
            (size, int(QUOTE_EXACT_INPUT.decode(a[:66])[0]))
            for size, a in zip(sizes, answers, strict=True)
            if isinstance(a, str) and len(a) >= 66
        ]
        if not measured:
            return None
        return Quotes(tuple(x for x, _ in measured), tuple(y for _, y in measured))

    # ------------------------------------------------------------------ execution

    def _prepare(self, kind: str, target: str, method: Any, *args: Any, report: TickReport) -> Prepared | None:
        """The call, simulated against the pending block; None (no gas spent) if it would
        revert, counted by its reason."""
        try:
            return self.sender.prepare(kind, target, method, *args)
        except Exception as err:  # noqa: BLE001 - a revert, or the node failing to answer
            self._failed(report, kind, target, self.sender.reverts.of(err), "would revert")
            return None

    def _say(self, key: str, level: int, message: str, *args: Any) -> None:
        """Log `message` at `level` unless the same `key` was said last tick too (then at DEBUG):
        a condition that lasts is one line when it starts, and again only after a tick without it."""
        self._said_now.add(key)
        log.log(logging.DEBUG if key in self._said_before else level, message, *args)

    @staticmethod
    def _failed(report: TickReport, kind: str, target: str, revert: Revert, how: str) -> None:
        """A call that reverts (`how`: in simulation, or on-chain): a lost race when its reason
        says another keeper did the work, else an error of this keeper's, with its reason."""
        if revert.race:
            report.lost_races += 1
            log.info("%s %s lost the race: %s", kind, shown(target), revert)
            return
        report.errors.append(f"{kind} {shown(target)} {how}: {revert}")
        log.warning("%s %s %s: %s", kind, shown(target), how, revert)

    def _send(self, prepared: Prepared, report: TickReport, expected_profit: int = 0) -> bool:
        if self.policy.dry_run:
            report.would_send.append(f"{prepared.kind} {prepared.target}")
            log.info("dry run: would send %s %s", prepared.kind, shown(prepared.target))
            return False
        try:
            fees = self.sender.fees_now()
        except FeeCapExceeded as err:
            self._say(
                f"fee cap {prepared.kind} {prepared.target}",
                logging.WARNING,
                "%s %s not sent: %s",
                prepared.kind,
                shown(prepared.target),
                err,
            )
            return False
        return self.sender.send(prepared, fees, expected_profit) is not None

    def _native_price_in_debt(self) -> int:
        """[wad debt tokens per native token]: to price gas. The native asset's oracle price over
        the debt asset's (this tick's read when it is a listed collateral, else one `peek`);
        0 (gas counted as free) without a native asset or a price for it."""
        if self.native_asset is None or self.state is None:
            return 0
        if self.native_asset.lower() == str(self.c.debt_asset.address).lower():
            return WAD
        if not self.state.debt_price:
            return 0
        for asset, price in zip(self.state.assets, self.state.prices, strict=True):
            if asset.lower() == self.native_asset.lower():
                return price * WAD // self.state.debt_price
        return self._per_tick("native_price", self._peek_native) * WAD // self.state.debt_price

    def _peek_native(self) -> int:
        call = {"to": str(self.c.oracle.address), "data": PEEK.data(self.native_asset)}
        answer = self.rpc("eth_call", [call, "latest"])
        price, status = PEEK.decode(answer)
        return int(price) if int(status) == 0 else 0


def _fees_behind(updates: list[PendingTx] | None, fees: Fees) -> Fees | None:
    """The first kick's fees behind `updates`: never above theirs in max fee (Anvil orders its
    pool by it) nor in tip (a builder orders by it), so the updates go first and, at equal fees,
    arrival order puts the kick right after them."""
    if not updates:
        return None
    max_fee = min(min(u.max_fee for u in updates), fees.max_fee)
    return Fees(max_fee, min(fees.priority_fee, min(u.tip_cap for u in updates), max_fee))


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:200]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def _slot(value: int) -> str:
    return "0x" + f"{value:064x}"
