"""Crash scenarios, Gavel beside a fixed-discount lender (`make bench-crash`, scripts/bench_crash.py):
the set-up, the two liquidators, the measures. Not the script itself: `ape run` loads scripts
outside sys.modules, where dataclasses cannot be defined.

On one fresh Anvil: Gavel, Morpho Blue 1.0.0 (from npm, compiled with the 0.8.19 its sources pin;
LLTV 80% = Gavel's WETH liquidation threshold, so its incentive factor is 1.0638), a real Uniswap
V2 WETH/USDC pool 2,000 WETH deep (so selling moves its price), and the same borrowers on both
(1-20 WETH, 40-74% loan-to-value at $2,000). Each price path then runs twice from the same
snapshot, once per protocol, a tick a minute of chain time (timestamps set here): the oracle
moves along the path, an arbitrageur brings the pool back to it, and the protocol's liquidator
acts:

  Gavel        the real keeper (`bots/keeper`), profit mode, gas priced from the chain
  Morpho Blue  a bot of the same make: it finds unhealthy positions from batched reads, sizes
               each liquidation to what the pool absorbs at a profit after gas (the same search
               as the keeper's take plan), liquidates from USDC inventory and sells the seized
               WETH on the same pool

For each: accounts liquidated, bad debt (realised, plus debt beyond collateral left unliquidated
at the end), recovery (what liquidations raised / the oracle value of the collateral they sold),
what borrowers lost (oracle value of collateral taken / debt it repaid), the part of that beyond
the protocol's own penalty, and minutes until no account was liquidatable. Prints the table and
draws a PNG per path into bench-crash-charts/."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ape import accounts, project
from ape.contracts import ContractContainer
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from bots.keeper.core import Contracts, Keeper, Policy
from bots.keeper.market import View
from bots.keeper.store import Store
from bots.keeper.strategy import Auction, KickMode, Pool, best_sale_size
from bots.keeper.units import div_up, gas_cost_in_debt_up
from scripts._bulk import Anvil, BulkChain
from scripts._crash_paths import PATHS, START_PRICE, IdealOutcome, Position, PricePath, ideal
from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local, npm_artifact
from scripts._morpho import market_id, morpho_contracts
from scripts._pools import trade_to

USDC, ETH, WAD = 10**6, 10**18, 10**18
MAX = 2**256 - 1
ORACLE_SCALE = 10**36 * USDC // ETH  # Morpho's price unit: loan units per collateral unit, times 1e36
LLTV = 80 * WAD // 100
LIF = WAD * WAD // (WAD - 3 * WAD // 10 * (WAD - LLTV) // WAD)  # 1 / (1 - 0.3 * (1 - LLTV))
BASE_FEE = 20 * 10**9  # [wei] a normal day's base fee
MORPHO_BOT_GAS = 250_000  # liquidate (~100k) and the swap that sells the seizure (~120k), with room
BLOCKS_PER_MINUTE, BLOCK_SECONDS = 5, 12  # the liquidators act, and arbitrage restores the pool, every block
QUIET_TICKS = 10  # after the path: stop once this many ticks had nothing liquidatable and nothing selling
MAX_TICKS_AFTER = 120
POSITION = View("position(bytes32,address)", ("bytes32", "address"), ("uint256", "uint128", "uint128"))
MARKET = View("market(bytes32)", ("bytes32",), ("uint128",) * 6)
LIQUIDATE_TOPIC = keccak(text="Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)")
DEBT_OF = View("debtOf(address)", ("address",), ("uint256",))
COLLATERAL_OF = View("collateralOf(address,address)", ("address", "address"), ("uint256",))
AUCTION = View("auctions(uint256)", ("uint256",), ("uint128", "uint128", "uint128", "uint88", "uint32", "uint8"))


@dataclass
class Outcome:
    protocol: str
    path: str
    liquidated: set[str] = field(default_factory=set)
    sold_value: int = 0  # [USDC units] oracle value of collateral sold, at the time
    raised: int = 0  # [USDC units] what those sales raised
    debt_repaid: int = 0  # [USDC units]
    penalty: int = 0  # [USDC units] the protocol's own penalty in that (Gavel: the tab's; Morpho: the incentive)
    bad_debt: int = 0  # [USDC units] realised
    unrealised: int = 0  # [USDC units] debt beyond collateral value left at the end (auctions' tabs and lots included)
    left_selling: int = 0  # Gavel's auctions still selling at the end
    last_liquidatable: int = -1  # [minute]
    last_sale: int = -1  # [minute] Gavel: the last auction ended; Morpho: the last liquidation
    declined: int = 0  # kicks (Gavel) or liquidations (Morpho) left unsent because gas cost more than they pay
    takes: int = 0  # Gavel's takes; Morpho's liquidations
    redos: int = 0
    late_ticks: int = 0  # ticks that began late: the one before mined more blocks than its minute has seconds
    ideal: IdealOutcome | None = None  # the ideal liquidator's on the same world and path
    losses: list[tuple[int, float]] = field(default_factory=list)  # (minute, borrowers' loss so far, USD)
    bad_debts: list[tuple[int, float]] = field(default_factory=list)  # (minute, bad debt so far, USD)
    oracle: list[tuple[int, float]] = field(default_factory=list)  # (minute, the oracle's price, USD per ETH)
    live: set[int] = field(default_factory=set)  # Gavel's auctions selling now

    @property
    def borrower_loss(self) -> int:
        return max(0, self.sold_value - self.debt_repaid)

    @property
    def beyond_penalty(self) -> int:
        return max(0, self.borrower_loss - self.penalty)

    @property
    def recovery(self) -> float:
        return self.raised / self.sold_value if self.sold_value else 1.0

    @property
    def total_bad_debt(self) -> int:
        return self.bad_debt + self.unrealised


@dataclass
class World:
    chain: Any
    node: Anvil
    g: dict[str, Any]
    blue: Any
    market: tuple
    market_id: bytes
    morpho_oracle: Any
    pair: Any
    borrowers: list[str]
    positions: list[Position]  # the borrowers', the same on both protocols
    arb: Any
    morpho_bot: Any
    keeper_account: Any
    governor: Any
    start_block: int
    first_liquidity: int  # the pool's LP supply at the start: its depth is measured against it


def _reserves(w: World) -> tuple[int, int]:
    """The pool's (WETH, USDC) reserves [token units]."""
    r0, r1, _ = w.pair.getReserves()
    return (r0, r1) if w.pair.token0() == w.g["weth"].address else (r1, r0)


def pool_price(w: World) -> int:
    """[USDC units per ETH] the pool's price."""
    rw, ru = _reserves(w)
    return ru * ETH // rw


def arbitrage(w: World, price: int) -> None:
    """Trade the pool to `price` (USDC units per ETH), whichever way it is off by more than 0.1%,
    as arbitrageurs do."""
    g = w.g
    trade_to(price, w.pair, g["uniswap_router"], g["weth"], g["usdc"], w.arb, band_bps=10)


def thin(w: World, depth: float) -> None:
    """The pool's LPs (the governor) withdraw until its depth is `depth` of the first (never add)."""
    supply = int(w.pair.totalSupply())
    target = int(w.first_liquidity * depth)
    if supply - target > supply // 1_000:
        w.g["uniswap_router"].removeLiquidity(
            w.g["weth"], w.g["usdc"], supply - target, 0, 0, w.governor, MAX, sender=w.governor
        )


def gavel_config(
    buf: float | None, cut: float | None, penalty: float | None, cusp: float | None = None
) -> ProtocolConfig:
    """Gavel's defaults, with the WETH auction's start premium, its decay per step, its cusp and
    its penalty replaced where given (a bench option, to see what the defaults cost)."""
    config = ProtocolConfig()
    weth, *rest = config.collaterals
    changes: dict[str, int] = {}
    if buf is not None:
        changes["buf"] = round(buf * WAD)
    if penalty is not None:
        changes["penalty"] = round(penalty * WAD)
    if cusp is not None:
        changes["cusp"] = round(cusp * WAD)
    config = replace(config, collaterals=(replace(weth, **changes), *rest))
    return replace(config, cut=round(cut * WAD)) if cut is not None else config


def setup(chain: Any, node: Anvil, n: int, seed: int, say: Any, config: ProtocolConfig | None = None) -> World:
    """Both protocols, the pool and `n` borrowers; Gavel with `config` (default: its defaults)."""
    governor, guardian, lender, keeper_account, arb, morpho_bot = accounts.test_accounts[:6]
    say("Deploying Gavel, Morpho Blue and a Uniswap V2 WETH/USDC pool 2,000 WETH deep...")
    first_block = chain.blocks.head.number + 1  # the keeper's mirror starts here: it sees every borrower
    g = deploy_local(project, governor, guardian, config or ProtocolConfig())
    usdc, weth, vault = g["usdc"], g["weth"], g["vault"]
    add_liquidity(g["uniswap_router"], governor, weth, usdc, 2_000 * ETH, 4_000_000 * USDC)
    pair = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Pair")).at(
        g["uniswap_factory"].getPair(weth, usdc)
    )
    m = morpho_contracts()
    blue = m["Morpho"].deploy(governor, sender=governor)
    morpho_oracle = m["OracleMock"].deploy(sender=governor)
    irm = m["IrmMock"].deploy(sender=governor)
    blue.enableIrm(irm, sender=governor)
    blue.enableLltv(LLTV, sender=governor)
    market = (usdc.address, weth.address, morpho_oracle.address, irm.address, LLTV)
    morpho_oracle.setPrice(START_PRICE * ORACLE_SCALE, sender=governor)
    blue.createMarket(market, sender=governor)

    usdc.mint(lender, 100_000_000 * USDC, sender=governor)
    for target in (vault, blue):
        usdc.approve(target, MAX, sender=lender)
    vault.deposit(50_000_000 * USDC, lender, sender=lender)
    blue.supply(market, 50_000_000 * USDC, 0, lender, b"", sender=lender)
    usdc.mint(governor, 500_000 * USDC, sender=governor)
    usdc.approve(g["insurance_fund"], MAX, sender=governor)
    g["insurance_fund"].fund(500_000 * USDC, sender=governor)
    for who in (arb, morpho_bot):
        for token in (weth, usdc):
            token.approve(g["uniswap_router"], MAX, sender=who)
    usdc.mint(morpho_bot, 50_000_000 * USDC, sender=governor)  # the Morpho bot's inventory
    usdc.approve(blue, MAX, sender=morpho_bot)

    rng = random.Random(seed)
    people: list[str] = []
    positions: list[Position] = []
    started = time.perf_counter()
    for i in range(n):
        who = accounts.test_accounts.generate_test_account()
        node.rpc("anvil_setBalance", [who.address, hex(10 * ETH)])
        collateral = rng.randint(1, 20) * ETH
        debt = collateral * 2_000 * rng.randint(40, 74) // 100 // ETH * USDC
        weth.mint(who, 2 * collateral, sender=governor)
        weth.approve(vault, MAX, sender=who)
        weth.approve(blue, MAX, sender=who)
        vault.supplyCollateral(weth, collateral, who, sender=who)
        vault.borrow(debt, who, who, sender=who)
        blue.supplyCollateral(market, collateral, who, b"", sender=who)
        blue.borrow(market, debt, 0, who, who, sender=who)
        people.append(who.address)
        positions.append(Position(collateral, debt))
        if (i + 1) % 25 == 0 or i + 1 == n:
            say(f"  {i + 1} of {n} borrowers opened on both ({time.perf_counter() - started:.0f} s)")
    pair.approve(g["uniswap_router"], MAX, sender=governor)  # the LPs' way out, for paths that thin the pool
    return World(
        chain, node, g, blue, market, market_id(market), morpho_oracle, pair, people, positions, arb,
        morpho_bot, keeper_account, governor, first_block, int(pair.totalSupply()),
    )  # fmt: skip


def run_path(w: World, path: PricePath, protocol: str, store_dir: Path) -> Outcome:
    """One protocol through one path, from the snapshot the caller restores. A minute is five
    12-s blocks. At its first: the gas price, the pool's depth, and the oracle's price, which
    outside cascade mode follows the path; in cascade mode the outside market's move is traded
    into the pool (which keeps every earlier sale's impact) and the oracle reports the pool's
    price `lag` minutes ago. At every block an arbitrageur brings the pool back to the oracle
    (outside cascade mode), then the protocol's liquidator acts; once nothing is liquidatable or
    selling, the minute's later blocks are skipped (nothing could change in them)."""
    out = Outcome(protocol, path.name)
    chain, g = w.chain, w.g
    start = int(chain.blocks.head.timestamp) + 60
    keeper = None
    if protocol == "Gavel":
        contracts = Contracts(
            g["vault"], g["liquidator"], g["oracle"], g["insurance_fund"], g["usdc"], g["taker"],
            g["uniswap_factory"], g["uniswap_router"],
        )  # fmt: skip
        store = Store(store_dir / f"{path.name}.sqlite", chain.chain_id, g["vault"].address, w.start_block)
        policy = Policy(kick_mode=KickMode.PROFIT, confirmations=0, max_fee_gwei=100_000.0, tick_seconds=600)
        keeper = Keeper(contracts, w.keeper_account, chain, store, policy, project, native_asset=g["weth"].address)
    history: list[int] = []  # cascade mode: the pool's price at the end of each minute [USDC units per ETH]
    quiet, minute = 0, 0
    while True:
        gas = path.gas_multiple(minute)
        liquidatable = selling = False
        for block in range(BLOCKS_PER_MINUTE):
            w.node.rpc("anvil_setNextBlockBaseFeePerGas", [hex(BASE_FEE * gas)])
            at, head_time = start + 60 * minute + BLOCK_SECONDS * block, int(chain.blocks.head.timestamp)
            if at <= head_time:  # the last block's work mined more blocks than it has seconds:
                start += head_time + 1 - at  # this one starts a second after them, and later ones follow
                at = head_time + 1
                out.late_ticks += 1
            w.node.rpc("evm_setNextBlockTimestamp", [at])
            # The block itself, empty: the head then carries the base fee and the time that senders
            # price from (left pending, the base fee would apply to the liquidator's own sends,
            # priced from an older head that had decayed below it).
            w.node.rpc("evm_mine", [])
            before = chain.blocks.head.number
            if block == 0:
                thin(w, path.depth_at(minute))
                if path.cascade:
                    if minute > 0:
                        arbitrage(w, pool_price(w) * path.price(minute) // path.price(minute - 1))
                    price = history[-path.lag] if len(history) >= path.lag else START_PRICE * USDC
                else:
                    price = path.price(minute) * USDC
                g["weth_feed"].setAnswer(price * 100, sender=w.governor)  # 8 decimals
                g["usdc_feed"].setAnswer(10**8, sender=w.governor)
                g["wbtc_feed"].setAnswer(30_000 * 10**8, sender=w.governor)
                w.morpho_oracle.setPrice(price * 10**36 // ETH, sender=w.governor)
            if not path.cascade:
                arbitrage(w, price)
            if keeper is not None:
                report = _keeper_tick(w, keeper)
                out.declined += report.declined_kicks
                now_liquidatable = bool(report.unhealthy)
                _gavel_events(w, out, before, price, minute)
                now_selling = bool(out.live)
            else:
                now_liquidatable = _morpho_tick(w, out, price, gas, minute)
                now_selling = False
            liquidatable, selling = liquidatable or now_liquidatable, now_selling
            if not (now_liquidatable or now_selling):
                break
        history.append(pool_price(w))
        if liquidatable:
            out.last_liquidatable = minute
        out.losses.append((minute, out.borrower_loss / USDC))
        out.oracle.append((minute, price / USDC))
        out.bad_debts.append((minute, (out.bad_debt + _underwater(w, out, price)[0]) / USDC))
        quiet = 0 if (liquidatable or selling) else quiet + 1
        minute += 1
        if minute > path.minutes and (quiet >= QUIET_TICKS or minute > path.minutes + MAX_TICKS_AFTER):
            break
    out.unrealised, out.left_selling = _underwater(w, out, price)
    out.ideal = ideal(path, w.positions, LLTV / WAD, minute)
    if keeper is not None:
        keeper.store.close()
    return out


def _keeper_tick(w: World, keeper: Keeper) -> Any:
    """One keeper tick, its transactions mined after it (`BulkChain.mined_after`): with Anvil's
    automine, 22 blocks of 589 in one traced run held more than one of them, and each block moves
    the clock a second, so no two runs were alike."""
    return BulkChain(w.node.rpc).mined_after(keeper.tick)


def _gavel_events(w: World, out: Outcome, before: int, price: int, minute: int) -> None:
    """Books the tick's kicks, takes, redos and endings; `price` [USDC units per ETH] the oracle's."""
    head = w.chain.blocks.head.number + 1
    vault, liquidator = w.g["vault"], w.g["liquidator"]
    for kick in vault.Liquidated.range(before + 1, head):
        out.liquidated.add(kick.account.lower())
    for opened in liquidator.Kick.range(before + 1, head):
        out.live.add(int(opened.id))
    for take in liquidator.Take.range(before + 1, head):
        out.takes += 1
        out.sold_value += take.bought * price // ETH
        out.raised += take.paid
        out.debt_repaid += take.paid  # less its penalty part, below (emitted only when there is one)
    out.redos += len(list(liquidator.Redo.range(before + 1, head)))
    for ended in liquidator.AuctionEnded.range(before + 1, head):
        out.live.discard(int(ended.id))
        out.last_sale = minute
    for proceeds in vault.AuctionProceeds.range(before + 1, head):
        out.debt_repaid -= proceeds.penalty
        out.penalty += proceeds.penalty
    for settled in vault.ShortfallSettled.range(before + 1, head):
        out.bad_debt += settled.shortfall


def _positions(w: World) -> tuple[list[tuple[str, int, int]], tuple[int, ...]]:
    """[(borrower, borrowShares, collateral)] and the market's totals, in one batch."""
    blue = str(w.blue.address)
    calls = [("eth_call", [{"to": blue, "data": MARKET.data(w.market_id)}, "latest"])]
    calls += [("eth_call", [{"to": blue, "data": POSITION.data(w.market_id, b)}, "latest"]) for b in w.borrowers]
    answers = w.node.rpc.batch(calls)
    totals = MARKET.decode(answers[0])
    out = []
    for b, answer in zip(w.borrowers, answers[1:], strict=True):
        _, shares, collateral = POSITION.decode(answer)
        out.append((b, int(shares), int(collateral)))
    return out, totals


def _morpho_tick(w: World, out: Outcome, price: int, gas_multiple: int, minute: int) -> bool:
    """The Morpho bot's tick: liquidate every unhealthy position as far as the pool pays for it
    after gas, largest debt first. `price` [USDC units per ETH] the oracle's. Returns whether any
    position was liquidatable."""
    positions, totals = _positions(w)
    total_assets, total_shares = int(totals[2]), int(totals[3])
    oracle_price = price * 10**36 // ETH  # Morpho's unit: loan units per collateral unit, times 1e36
    unhealthy = []
    for borrower, shares, collateral in positions:
        borrowed = -(-shares * total_assets // total_shares) if total_shares else 0
        if borrowed and collateral * oracle_price // 10**36 * LLTV // WAD < borrowed:
            unhealthy.append((borrowed, borrower, collateral))
    unhealthy.sort(reverse=True)
    gas_cost = gas_cost_in_debt_up(MORPHO_BOT_GAS, BASE_FEE * gas_multiple + 10**9, price * WAD // USDC, USDC)
    for borrowed, borrower, collateral in unhealthy:
        pool = Pool(*_reserves(w))  # each liquidation's sale moved it
        # Seizing x WETH repays x * price / LIF: a sale at a fixed discount, priced like an auction.
        # Never more than repays the whole debt: Morpho rounds the shares a seizure repays up, and
        # repaying one share more than the position has underflows (a margin of a millionth).
        max_seize = min(collateral, borrowed * LIF // WAD * 10**36 // oracle_price * 999_999 // 1_000_000)
        effective = price * WAD // USDC * WAD // LIF  # [wad USDC per WETH] what a seized WETH costs the bot
        seize = best_sale_size(pool, Auction(0, effective, max_seize, borrowed, ETH, USDC))
        seize = min(seize, max_seize)
        if seize == 0:
            continue
        quoted = div_up(seize * oracle_price, 10**36)  # as Morpho prices the seizure, rounded up
        repay = div_up(quoted * WAD, LIF)
        if pool.amount_out(seize) - repay <= gas_cost:
            if pool.amount_out(seize) > repay:
                out.declined += 1  # it would pay but for gas
            continue
        receipt = w.blue.liquidate(w.market, borrower, seize, 0, b"", sender=w.morpho_bot)
        repaid, _, seized, bad_debt, _ = _liquidate_event(receipt)
        w.g["uniswap_router"].swapExactTokensForTokens(
            seized, 0, [w.g["weth"], w.g["usdc"]], w.morpho_bot, MAX, sender=w.morpho_bot
        )
        out.liquidated.add(borrower.lower())
        out.takes += 1
        out.last_sale = minute
        value = seized * price // ETH
        out.sold_value += value
        out.raised += repaid
        out.debt_repaid += repaid
        out.penalty += max(0, value - repaid)  # the incentive is the whole discount
        out.bad_debt += bad_debt
    return bool(unhealthy)


def _liquidate_event(receipt: Any) -> tuple[int, ...]:
    """Morpho's Liquidate event (repaidAssets, repaidShares, seizedAssets, badDebtAssets,
    badDebtShares), decoded by hand: 0.8.19 leaves library events out of the contract's ABI."""
    for entry in receipt.logs:
        topics = [bytes(t) for t in entry["topics"]]
        if topics and topics[0] == LIQUIDATE_TOPIC:
            data = entry["data"]
            raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
            return tuple(int(x) for x in decode(["uint256"] * 5, raw))
    raise RuntimeError(f"no Liquidate event in {receipt.txn_hash}")


def _underwater(w: World, out: Outcome, price: int) -> tuple[int, int]:
    """[USDC units] debt beyond the collateral's oracle value (`price`, USDC units per ETH), over
    accounts left with more debt than that, and how many of Gavel's auctions are selling. One
    batch of reads."""
    total = 0
    if out.protocol == "Gavel":
        # An auction still selling holds part of the account's debt (its tab) and collateral (its
        # lot): count both, or debt waiting in an auction that never sold would look repaid.
        vault, weth, liquidator = str(w.g["vault"].address), str(w.g["weth"].address), str(w.g["liquidator"].address)
        live = sorted(out.live)
        calls = [("eth_call", [{"to": vault, "data": DEBT_OF.data(b)}, "latest"]) for b in w.borrowers]
        calls += [("eth_call", [{"to": vault, "data": COLLATERAL_OF.data(b, weth)}, "latest"]) for b in w.borrowers]
        calls += [("eth_call", [{"to": liquidator, "data": AUCTION.data(i)}, "latest"]) for i in live]
        answers = w.node.rpc.batch(calls)
        n = len(w.borrowers)
        debt = {b.lower(): int(DEBT_OF.decode(a)[0]) for b, a in zip(w.borrowers, answers[:n], strict=True)}
        held = answers[n : 2 * n]
        lots = {b.lower(): int(COLLATERAL_OF.decode(a)[0]) for b, a in zip(w.borrowers, held, strict=True)}
        for auction_id, answer in zip(live, answers[2 * n :], strict=True):
            lot, tab, _, penalty, _, _ = AUCTION.decode(answer)
            who = f"0x{auction_id >> 96:040x}"
            # Lenders are owed the tab less its penalty: a penalty never raised is no one's loss.
            debt[who] = debt.get(who, 0) + max(0, int(tab) - int(penalty))
            lots[who] = lots.get(who, 0) + int(lot)
        for who, owed in debt.items():
            total += max(0, owed - lots.get(who, 0) * price // ETH)
        return total, len(live)
    positions, totals = _positions(w)
    for _, shares, collateral in positions:
        borrowed = -(-shares * int(totals[2]) // int(totals[3])) if int(totals[3]) else 0
        total += max(0, borrowed - collateral * price // ETH)
    return total, 0


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| path | protocol | accounts liquidated | bad debt (USDC) | ideal's bad debt | recovery "
        "| borrowers' loss (USDC) | of it beyond the penalty | ideal's borrowers' loss | last sale (minute) "
        "| minutes until none liquidatable | declined for gas | takes | redos |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        best = o.ideal or IdealOutcome(0, 0, 0)
        lines.append(
            f"| {o.path} | {o.protocol} | {len(o.liquidated)} | {o.total_bad_debt / USDC:,.0f} "
            f"| {best.bad_debt / USDC:,.0f} | {o.recovery:.1%} | {o.borrower_loss / USDC:,.0f} "
            f"| {o.beyond_penalty / USDC:,.0f} | {best.borrower_loss / USDC:,.0f} | {o.last_sale} "
            f"| {o.last_liquidatable + 1} | {o.declined} | {o.takes} "
            f"| {o.redos if o.protocol == 'Gavel' else '—'} |"
        )
    return "\n".join(lines)


def checks(path: PricePath, gavel: Outcome, morpho: Outcome) -> list[tuple[str, bool, str]]:
    """The targets on one path: (what, met, the figures)."""
    g_bad, m_bad = gavel.total_bad_debt, morpho.total_bad_debt
    g_loss, m_loss = gavel.borrower_loss, morpho.borrower_loss
    out = [
        ("bad debt at most Morpho's", g_bad <= m_bad, f"{g_bad / USDC:,.0f} vs {m_bad / USDC:,.0f}"),
        (
            "borrowers lose less",
            g_loss < m_loss or g_loss == m_loss == 0,
            f"{g_loss / USDC:,.0f} vs {m_loss / USDC:,.0f}",
        ),
        ("recovery at least 95%", gavel.recovery >= 0.95, f"{gavel.recovery:.1%}"),
    ]
    if path.slow:
        out.append(("no bad debt (40% an hour or slower)", g_bad == 0, f"{g_bad / USDC:,.0f}"))
    if path.bad_debt_cap is not None:
        cap = path.bad_debt_cap * USDC
        out.append((f"bad debt under {path.bad_debt_cap:,}", g_bad < cap, f"{g_bad / USDC:,.0f}"))
    if path.high_gas:
        out.append(
            ("as many liquidated as Morpho's bot", len(gavel.liquidated) >= len(morpho.liquidated),
             f"{len(gavel.liquidated)} vs {len(morpho.liquidated)}")
        )  # fmt: skip
    return out


def verdict(outcomes: list[Outcome]) -> list[str]:
    """The targets, path by path: a path is met only when every one of its checks is."""
    by = {(o.path, o.protocol): o for o in outcomes}
    lines = []
    met = 0
    ran = [p for p in PATHS if (p.name, "Gavel") in by and (p.name, "Morpho Blue") in by]
    for path in ran:
        results = checks(path, by[(path.name, "Gavel")], by[(path.name, "Morpho Blue")])
        failed = [f"{what} ({figures})" for what, ok, figures in results if not ok]
        met += not failed
        lines.append(f"  {path.name}: " + ("met" if not failed else "NOT met: " + "; ".join(failed)))
    lines.append(f"  {met} of {len(ran)} paths met")
    return lines


def draw(outcomes: list[Outcome], folder: Path) -> list[Path]:
    """A PNG per path: the oracle's price above; bad debt so far beside borrowers' loss so far,
    each protocol's line and the ideal's final figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in PATHS:
        runs = [o for o in outcomes if o.path == path.name]
        if not runs:
            continue
        fig = plt.figure(figsize=(11, 6))
        top = fig.add_subplot(2, 1, 1)
        left, right = fig.add_subplot(2, 2, 3), fig.add_subplot(2, 2, 4)
        minutes = max(len(o.losses) for o in runs)
        top.plot(range(minutes), [path.price(m) for m in range(minutes)], color="black", label="outside market")
        if path.cascade:  # the oracle follows the pool, which each protocol's sales moved
            for o in runs:
                label = f"oracle, {o.protocol}"
                top.plot([m for m, _ in o.oracle], [v for _, v in o.oracle], linestyle=":", label=label)
        top.set_ylabel("USD per ETH")
        top.set_title(path.name)
        top.legend()
        for o in runs:
            left.plot([m for m, _ in o.bad_debts], [v for _, v in o.bad_debts], label=o.protocol)
            right.plot([m for m, _ in o.losses], [v for _, v in o.losses], label=o.protocol)
        best = runs[0].ideal
        if best is not None:
            left.axhline(best.bad_debt / USDC, color="grey", linestyle="--", label="ideal")
            right.axhline(best.borrower_loss / USDC, color="grey", linestyle="--", label="ideal")
        left.set_ylabel("bad debt so far (USD)")
        right.set_ylabel("borrowers' loss so far (USD)")
        for axis in (left, right):
            axis.set_xlabel("minutes")
            axis.legend()
        fig.tight_layout()
        file = folder / (path.name.replace(" ", "_").replace("%", "pct").replace(",", "").replace(":", "") + ".png")
        fig.savefig(file, dpi=100)
        plt.close(fig)
        written.append(file)
    return written
