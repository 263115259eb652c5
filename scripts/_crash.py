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

import math
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

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
from scripts._deployment import ProtocolConfig, add_liquidity, deploy_local, npm_artifact
from scripts._morpho import market_id, morpho_contracts

USDC, ETH, WAD = 10**6, 10**18, 10**18
MAX = 2**256 - 1
ORACLE_SCALE = 10**36 * USDC // ETH  # Morpho's price unit: loan units per collateral unit, times 1e36
LLTV = 80 * WAD // 100
LIF = WAD * WAD // (WAD - 3 * WAD // 10 * (WAD - LLTV) // WAD)  # 1 / (1 - 0.3 * (1 - LLTV))
BASE_FEE = 20 * 10**9  # [wei] a normal day's base fee
MORPHO_BOT_GAS = 250_000  # liquidate (~100k) and the swap that sells the seizure (~120k), with room
QUIET_TICKS = 10  # after the path: stop once this many ticks had nothing liquidatable and nothing selling
MAX_TICKS_AFTER = 120
POSITION = View("position(bytes32,address)", ("bytes32", "address"), ("uint256", "uint128", "uint128"))
MARKET = View("market(bytes32)", ("bytes32",), ("uint128",) * 6)
LIQUIDATE_TOPIC = keccak(text="Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)")


class PricePath(NamedTuple):
    name: str
    fall: float  # fraction of $2,000
    minutes: int
    gas_multiple: int

    def price(self, minute: int) -> int:
        """[USD per ETH] at `minute`: a straight fall, then flat."""
        done = min(minute, self.minutes) / self.minutes
        return round(2_000 * (1 - self.fall * done))


PATHS = (
    PricePath("20% over an hour", 0.20, 60, 1),
    PricePath("40% over an hour", 0.40, 60, 1),
    PricePath("50% in ten minutes", 0.50, 10, 1),
    PricePath("50% in ten minutes, gas x50", 0.50, 10, 50),
)


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
    losses: list[tuple[float, float]] = field(default_factory=list)  # (minute, borrowers' loss so far, USD)

    @property
    def borrower_loss(self) -> int:
        return max(0, self.sold_value - self.debt_repaid)

    @property
    def beyond_penalty(self) -> int:
        return max(0, self.borrower_loss - self.penalty)

    @property
    def recovery(self) -> float:
        return self.raised / self.sold_value if self.sold_value else 1.0


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
    arb: Any
    morpho_bot: Any
    keeper_account: Any
    governor: Any
    start_block: int


def arbitrage(w: World, price: int) -> None:
    """Trade the pool back to `price` (USD per ETH), whichever way it is off, as arbitrageurs do."""
    r0, r1, _ = w.pair.getReserves()
    weth, usdc, router = w.g["weth"], w.g["usdc"], w.g["uniswap_router"]
    rw, ru = (r0, r1) if w.pair.token0() == weth.address else (r1, r0)
    target_weth = math.isqrt(rw * ru * ETH // (price * USDC))
    if target_weth > rw * 1_001 // 1_000:  # pool dearer than the oracle: sell WETH into it
        amount = target_weth - rw
        weth.mint(w.arb, amount, sender=w.arb)
        router.swapExactTokensForTokens(amount, 0, [weth, usdc], w.arb, MAX, sender=w.arb)
    elif target_weth < rw * 999 // 1_000:  # cheaper: buy WETH back with USDC
        spend = rw * ru // target_weth - ru
        usdc.mint(w.arb, spend, sender=w.arb)
        router.swapExactTokensForTokens(spend, 0, [usdc, weth], w.arb, MAX, sender=w.arb)


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
    morpho_oracle.setPrice(2_000 * ORACLE_SCALE, sender=governor)
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
    people = []
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
        if (i + 1) % 25 == 0 or i + 1 == n:
            say(f"  {i + 1} of {n} borrowers opened on both ({time.perf_counter() - started:.0f} s)")
    return World(
        chain, node, g, blue, market, market_id(market), morpho_oracle, pair, people, arb,
        morpho_bot, keeper_account, governor, first_block,
    )  # fmt: skip


def run_path(w: World, path: PricePath, protocol: str, store_dir: Path) -> Outcome:
    """One protocol through one path, from the snapshot the caller restores."""
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
    quiet, minute = 0, 0
    while True:
        price = path.price(minute)
        w.node.rpc("anvil_setNextBlockBaseFeePerGas", [hex(BASE_FEE * path.gas_multiple)])
        w.node.rpc("evm_setNextBlockTimestamp", [start + 60 * minute])
        before = chain.blocks.head.number
        if keeper is not None:
            g["weth_feed"].setAnswer(price * 10**8, sender=w.governor)
            g["usdc_feed"].setAnswer(10**8, sender=w.governor)
            g["wbtc_feed"].setAnswer(30_000 * 10**8, sender=w.governor)
            arbitrage(w, price)
            report = _keeper_tick(w, keeper)
            liquidatable = bool(report.unhealthy)
            selling = bool(keeper.store.live_auctions())
            _gavel_events(w, out, before, price)
        else:
            w.morpho_oracle.setPrice(price * ORACLE_SCALE, sender=w.governor)
            arbitrage(w, price)
            liquidatable = _morpho_tick(w, out, price, path.gas_multiple)
            selling = False
        if liquidatable:
            out.last_liquidatable = minute
        out.losses.append((minute, out.borrower_loss / USDC))
        quiet = 0 if (liquidatable or selling) else quiet + 1
        minute += 1
        if minute > path.minutes and (quiet >= QUIET_TICKS or minute > path.minutes + MAX_TICKS_AFTER):
            break
    price = path.price(minute)
    out.unrealised, out.left_selling = _unrealised(w, protocol, price)
    if keeper is not None:
        keeper.store.close()
    return out


def _keeper_tick(w: World, keeper: Keeper) -> Any:
    """One keeper tick, its transactions mined after it (`BulkChain.mined_after`): with Anvil's
    automine, 22 blocks of 589 in one traced run held more than one of them, and each block moves
    the clock a second, so no two runs were alike."""
    return BulkChain(w.node.rpc).mined_after(keeper.tick)


def _gavel_events(w: World, out: Outcome, before: int, price: int) -> None:
    head = w.chain.blocks.head.number + 1
    vault, liquidator = w.g["vault"], w.g["liquidator"]
    for kick in vault.Liquidated.range(before + 1, head):
        out.liquidated.add(kick.account.lower())
    for take in liquidator.Take.range(before + 1, head):
        out.sold_value += take.bought * price * USDC // ETH
        out.raised += take.paid
        out.debt_repaid += take.paid  # less its penalty part, below (emitted only when there is one)
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


def _morpho_tick(w: World, out: Outcome, price: int, gas_multiple: int) -> bool:
    """The Morpho bot's tick: liquidate every unhealthy position as far as the pool pays for it
    after gas, largest debt first. Returns whether any position was liquidatable."""
    positions, totals = _positions(w)
    total_assets, total_shares = int(totals[2]), int(totals[3])
    oracle_price = price * ORACLE_SCALE
    unhealthy = []
    for borrower, shares, collateral in positions:
        borrowed = -(-shares * total_assets // total_shares) if total_shares else 0
        if borrowed and collateral * oracle_price // 10**36 * LLTV // WAD < borrowed:
            unhealthy.append((borrowed, borrower, collateral))
    unhealthy.sort(reverse=True)
    gas_cost = gas_cost_in_debt_up(MORPHO_BOT_GAS, BASE_FEE * gas_multiple + 10**9, price * WAD, USDC)
    weth_first = w.pair.token0() == w.g["weth"].address
    for borrowed, borrower, collateral in unhealthy:
        r0, r1, _ = w.pair.getReserves()  # each liquidation's sale moved it
        pool = Pool(r0, r1) if weth_first else Pool(r1, r0)
        # Seizing x WETH repays x * price / LIF: a sale at a fixed discount, priced like an auction.
        # Never more than repays the whole debt: Morpho rounds the shares a seizure repays up, and
        # repaying one share more than the position has underflows (a margin of a millionth).
        max_seize = min(collateral, borrowed * LIF // WAD * 10**36 // oracle_price * 999_999 // 1_000_000)
        effective = price * WAD * WAD // LIF  # [wad USDC per WETH] what a seized WETH costs the bot
        seize = best_sale_size(pool, Auction(0, effective, max_seize, borrowed, ETH, USDC))
        seize = min(seize, max_seize)
        if seize == 0:
            continue
        quoted = div_up(seize * oracle_price, 10**36)  # as Morpho prices the seizure, rounded up
        repay = div_up(quoted * WAD, LIF)
        if pool.amount_out(seize) - repay <= gas_cost:
            continue
        receipt = w.blue.liquidate(w.market, borrower, seize, 0, b"", sender=w.morpho_bot)
        repaid, _, seized, bad_debt, _ = _liquidate_event(receipt)
        w.g["uniswap_router"].swapExactTokensForTokens(
            seized, 0, [w.g["weth"], w.g["usdc"]], w.morpho_bot, MAX, sender=w.morpho_bot
        )
        out.liquidated.add(borrower.lower())
        value = seized * price * USDC // ETH
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


def _unrealised(w: World, protocol: str, price: int) -> tuple[int, int]:
    """Debt beyond the collateral's oracle value, over accounts left with more debt than that, and
    how many of Gavel's auctions were still selling."""
    total = selling = 0
    if protocol == "Gavel":
        # An auction still selling holds part of the account's debt (its tab) and collateral (its
        # lot): count both, or debt waiting in an auction that never sold would look repaid.
        vault, weth, liquidator = w.g["vault"], w.g["weth"], w.g["liquidator"]
        ids = [int(k.id) for k in liquidator.Kick.range(w.start_block, w.chain.blocks.head.number + 1)]
        debt = {b.lower(): int(vault.debtOf(b)) for b in w.borrowers}
        lots = {b.lower(): int(vault.collateralOf(b, weth)) for b in w.borrowers}
        for view in liquidator.auctionViews(ids) if ids else []:
            if int(view.lot) > 0:
                who = str(view.account).lower()
                debt[who] = debt.get(who, 0) + int(view.tab)
                lots[who] = lots.get(who, 0) + int(view.lot)
                selling += 1
        for who, owed in debt.items():
            total += max(0, owed - lots[who] * price * USDC // ETH)
        return total, selling
    positions, totals = _positions(w)
    for _, shares, collateral in positions:
        borrowed = -(-shares * int(totals[2]) // int(totals[3])) if int(totals[3]) else 0
        total += max(0, borrowed - collateral * price * USDC // ETH)
    return total, 0


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| path | protocol | accounts liquidated | bad debt (USDC) | recovery | borrowers' loss (USDC) "
        "| of it beyond the penalty | minutes until none liquidatable |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        bad = (o.bad_debt + o.unrealised) / USDC
        lines.append(
            f"| {o.path} | {o.protocol} | {len(o.liquidated)} | {bad:,.0f} | {o.recovery:.1%} "
            f"| {o.borrower_loss / USDC:,.0f} | {o.beyond_penalty / USDC:,.0f} | {o.last_liquidatable + 1} |"
        )
    return "\n".join(lines)


def verdict(outcomes: list[Outcome]) -> list[str]:
    """The issue's targets, each met or not."""
    by = {(o.path, o.protocol): o for o in outcomes}
    gavel = [o for o in outcomes if o.protocol == "Gavel"]
    forty = by.get((PATHS[1].name, "Gavel"))
    lines = []
    if forty is not None:
        bad = forty.bad_debt + forty.unrealised
        lines.append(f"  no bad debt at 40% in an hour: {'met' if bad == 0 else 'NOT met'} ({bad / USDC:,.0f} USDC)")
    worst = min((o.recovery for o in gavel if o.sold_value), default=1.0)
    lines.append(f"  recovery >= 97% on every path: {'met' if worst >= 0.97 else 'NOT met'} (lowest {worst:.1%})")
    less = all(by[(o.path, "Gavel")].borrower_loss < by[(o.path, "Morpho Blue")].borrower_loss for o in gavel)
    lines.append(f"  Gavel's borrowers lose less than Morpho's on every path: {'met' if less else 'NOT met'}")
    return lines


def draw(outcomes: list[Outcome], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in PATHS:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        runs = [o for o in outcomes if o.path == path.name]
        minutes = max((len(o.losses) for o in runs), default=0)
        top.plot(range(minutes), [path.price(m) for m in range(minutes)], color="black")
        top.set_ylabel("oracle USD per ETH")
        top.set_title(path.name)
        for o in runs:
            bottom.plot([m for m, _ in o.losses], [v for _, v in o.losses], label=o.protocol)
        bottom.set_ylabel("borrowers' loss so far (USD)")
        bottom.set_xlabel("minutes")
        bottom.legend()
        fig.tight_layout()
        file = folder / (path.name.replace(" ", "_").replace("%", "pct").replace(",", "") + ".png")
        fig.savefig(file, dpi=100)
        plt.close(fig)
        written.append(file)
    return written
