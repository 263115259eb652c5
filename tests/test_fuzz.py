"""Stateful fuzzing with Hypothesis: random sequences of everything users, keepers and attackers
can do, with every invariant in the README checked after every step, and a failure shrunk to the
shortest sequence that still breaks one.

Why Hypothesis rather than Foundry's invariant testing: it is already pinned, it drives the same
real contracts on the same Anvil as the rest of the suite (the real OpenZeppelin ERC-4626, the
real curves), its failures shrink to a minimal list of steps printed as Python, and the model it
checks the contracts against (the auctions, rebuilt from events) is plain Python beside the
`money` helpers. Forge would mean a second toolchain and rewriting every helper in Solidity.

Moves: supply and withdraw two collateral assets of different decimals (WETH 18, WBTC 8) for
three borrowers, borrow, repay, lenders depositing and redeeming, price moves and feed outages,
time, kicks, takes, redos, breaker changes, reserves collected, the fund selling what it seized,
and the attack shapes: tokens donated to the Vault or the liquidator, dust attached to another
account, a deposit-take-redeem in one transaction (`JitLender`, which must never profit).

Budget: in `make test` (and CI) a fixed number of derandomised sequences (`FUZZ_SEQUENCES`), so
every run tries the same ones whatever the machine's speed; `make fuzz` draws new ones for
`FUZZ_SECONDS`. Each sequence has up to `FUZZ_STEPS` steps. Either way the figures (sequences,
steps, time, and what was done and refused) are printed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from conftest import MIN_DEBT, WAD, charge_interest

USDC, ETH, BTC = 10**6, 10**18, 10**8
MAX = 2**256 - 1
STEPS = int(os.environ.get("FUZZ_STEPS", "30"))
SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", "80"))  # the CI budget
SECONDS = float(os.environ.get("FUZZ_SECONDS", "0"))  # make fuzz: draw new sequences for this long

# A revert is fine when it is one of the protocol's named refusals (or ERC-4626's limits);
# anything else (a panic, an unnamed revert, a token's own error) fails the sequence.
NAMED = {
    "ZeroAmount", "ZeroAddress", "InvalidCollateral", "SupplyCapExceeded", "InsufficientCollateralBalance",
    "InsufficientCollateral", "InsufficientLiquidity", "DebtBelowMinimum", "NoDebt", "Unauthorized",
    "NotLiquidatable", "KickBelowDust", "AuctionCapReached", "PriceUnavailable", "BreakerActive",
    "AuctionNotActive", "AuctionNeedsRedo", "AuctionNotDone", "PriceAboveMax", "TakeWouldLeaveDust",
    "TakeTooSmall", "NotSellable", "BreakerNotRaised",
    "ERC4626ExceededMaxWithdraw", "ERC4626ExceededMaxRedeem",
}  # fmt: skip


def _hex(data) -> str:
    return data if isinstance(data, str) else "0x" + bytes(data).hex()


def error_selectors(project) -> dict[str, str]:
    """{"0x12345678": name} for every custom error in the project's contracts' ABIs (OpenZeppelin's
    included), so the fuzzer names a refusal from its revert data without asking Ape to trace it."""
    out = {"0x4e487b71": "Panic", "0x08c379a0": "Error(string)"}
    for name in ("Vault", "DutchAuctionLiquidator", "OracleAdapter", "InsuranceFund", "MockERC20", "JitLender"):
        for abi in getattr(project, name).contract_type.errors:
            signature = f"{abi.name}({','.join(i.canonical_type for i in abi.inputs)})"
            out["0x" + keccak(text=signature)[:4].hex()] = abi.name
    return out


ERRORS: dict[str, str] = {}


@dataclass
class Lot:
    """The model of one live auction, kept from events only."""

    account: str
    collateral: str
    lot: int
    tab: int
    debt: int


@dataclass
class Stats:
    sequences: int = 0
    steps: int = 0
    moves: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)


STATS = Stats()


class Gavel(RuleBasedStateMachine):
    """One sequence, from the test's starting state (restored when it ends)."""

    ctx: dict  # set by the test: contracts and accounts

    def __init__(self) -> None:
        super().__init__()
        c = self.ctx
        self.chain = c["chain"]
        self.snapshot = self.chain.snapshot()
        self.prices = {"weth": 2_000, "wbtc": 30_000}
        self.outage: set[str] = set()
        self.auctions: dict[int, Lot] = {}
        self.breaker = 0
        self.index = WAD
        STATS.sequences += 1

    def teardown(self) -> None:
        self.chain.restore(self.snapshot)

    # ------------------------------------------------------------------ helpers

    def send(self, name: str, method, *args, sender) -> object | None:
        """Simulate one transaction against the pending block (where it will run: the clock is
        deterministic); a named refusal is counted and nothing is sent, anything else (a panic,
        an unnamed revert) fails the sequence. What would succeed is sent, and every auction event
        in its receipt updates the model. (Simulating first is ten times faster than letting Ape
        trace a reverted transaction.)"""
        STATS.steps += 1
        call = {"from": sender.address, "to": method.contract.address, "data": _hex(method.encode_input(*args))}
        answer = self.chain.provider.web3.provider.make_request("eth_call", [call, "pending"])
        if "error" in answer:
            error = ERRORS.get(str(answer["error"].get("data") or "0x")[:10], f"unnamed {answer['error']}")
            assert error in NAMED, f"{name}: unexpected revert {error}"
            STATS.refused[f"{name}: {error}"] = STATS.refused.get(f"{name}: {error}", 0) + 1
            return None
        tx = method(*args, sender=sender)
        STATS.moves[name] = STATS.moves.get(name, 0) + 1
        self.follow(tx)
        return tx

    def follow(self, tx) -> None:
        liquidator = self.ctx["liquidator"]
        for e in tx.events.filter(liquidator.Kick):
            self.auctions[e.id] = Lot(e.account, e.collateral, e.lot, e.tab, e.debt)
        for e in tx.events.filter(liquidator.Take):
            a = self.auctions[e.id]
            a.debt -= min(e.paid, a.debt)
            a.lot, a.tab = e.lotLeft, e.tabLeft
        for e in tx.events.filter(liquidator.Redo):
            self.auctions[e.id].tab = e.tab  # a sale of the fund's collateral re-prices its tab
        for e in tx.events.filter(liquidator.AuctionEnded):
            self.auctions.pop(e.id)

    def count(self, name: str) -> None:
        STATS.steps += 1
        STATS.moves[name] = STATS.moves.get(name, 0) + 1

    def refresh_feeds(self, names=("weth", "wbtc")) -> None:
        c = self.ctx
        for name in names:
            if name not in self.outage:
                feed = c["eth_feed"] if name == "weth" else c["btc_feed"]
                feed.setAnswer(self.prices[name] * 10**8, sender=c["governor"])

    def collateral(self, name: str):
        return self.ctx[name]

    def unit(self, name: str) -> int:
        return ETH if name == "weth" else BTC

    def pick(self, data) -> int | None:
        return data.draw(st.sampled_from(sorted(self.auctions))) if self.auctions else None

    @initialize(eth=st.sampled_from([1_600, 2_000, 1_750, 1_300, 700]), wbtc=st.booleans())
    def start(self, eth, wbtc):
        """Where the sequence starts: ETH at a price that leaves the borrowers (liquidation prices
        $1,690-1,815) healthy or not, and perhaps with WBTC in their accounts too."""
        c = self.ctx
        if wbtc:
            for account in c["borrowers"]:
                c["vault"].supplyCollateral(c["wbtc"], BTC // 20, account, sender=account)  # $1,500
        self.prices["weth"] = eth
        self.refresh_feeds(["weth"])

    # One rule draws the next move from a weighted list, rather than one rule per move: Hypothesis
    # runs stateful tests as "swarm" tests that switch whole rules off for a sequence, which left
    # many sequences with no take at all. Each move draws its own arguments, so failures still
    # shrink, and the falsifying sequence prints every draw.
    MOVES = (
        ["kick"] * 5 + ["take"] * 5 + ["price"] * 5 + ["wait"] * 3 + ["redo"] * 2 + ["jit"] * 2 + ["dust"] * 2
        + ["borrow"] * 2 + ["repay"] * 2 + ["supply"] * 2 + ["withdraw", "donate", "deposit", "redeem", "outage"]
        + ["fund_sells", "collect", "breaker", "claim"]
    )  # fmt: skip

    @rule(data=st.data())
    def step(self, data):
        move = data.draw(st.sampled_from(self.MOVES), label="move")
        getattr(self, f"do_{move}")(data)

    def draw(self, data, strategy, label: str):
        return data.draw(strategy, label=label)

    def do_price(self, data):
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        percent = self.draw(data, st.sampled_from([-30, -20, -10, -5, 5, 10, -45]), "percent")
        floor = 50 if name == "weth" else 1_000
        self.prices[name] = max(floor, self.prices[name] * (100 + percent) // 100)
        self.outage.discard(name)
        self.refresh_feeds([name])
        self.count("price")

    def do_kick(self, data):
        c = self.ctx
        who = self.draw(data, st.integers(0, 2), "borrower")
        tx = self.send("kick", c["vault"].liquidate, c["borrowers"][who], sender=c["keeper"])
        if self.breaker >= 1:
            assert tx is None, "a kick went through with the breaker raised"

    def do_take(self, data):
        c, auction_id = self.ctx, self.pick(data)
        if auction_id is None:
            return
        percent = self.draw(data, st.integers(1, 100), "percent of the lot")
        if c["liquidator"].getStatus(auction_id).needsRedo:  # as a keeper would: restart it first
            self.send("redo", c["liquidator"].redo, auction_id, sender=c["keeper"])
            if auction_id not in self.auctions:
                return  # a dust lot was written off instead
        amount = max(self.auctions[auction_id].lot * percent // 100, 1)
        self.send("take", c["liquidator"].take, auction_id, amount, MAX, c["keeper"], b"", sender=c["keeper"])

    def do_wait(self, data):
        # A minute; past the linear curve's cusp (30 min); past the tail (2 h); a day (income unlocks).
        seconds = self.draw(data, st.sampled_from([60, 1_900, 600, 7_300, 86_400, 1]), "seconds")
        self.chain.pending_timestamp = self.chain.blocks.head.timestamp + seconds
        self.ctx["usdc_feed"].setAnswer(10**8, sender=self.ctx["governor"])  # mined at that timestamp
        self.refresh_feeds()  # the feeds keep beating
        self.count("wait")

    def do_redo(self, data):
        c, auction_id = self.ctx, self.pick(data)
        if auction_id is not None:
            self.send("redo", c["liquidator"].redo, auction_id, sender=c["keeper"])

    def do_jit(self, data):
        """Deposit, take and redeem in one transaction: it must never pay."""
        c, auction_id = self.ctx, self.pick(data)
        if auction_id is None:
            return
        amount = self.draw(data, st.integers(1, 9_000_000), "deposit")
        args = (c["vault"], c["liquidator"], auction_id, amount * USDC, MAX)
        tx = self.send("jit", c["jit"].attack, *args, sender=c["attacker"])
        if tx is not None:
            deposited, redeemed = tx.return_value
            assert redeemed <= deposited, f"a deposit-take-redeem made {redeemed - deposited}"

    def do_dust(self, data):
        """Someone attaches one unit of collateral to another's account."""
        c = self.ctx
        account = c["borrowers"][self.draw(data, st.integers(0, 2), "victim")]
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        self.send("dust", c["vault"].supplyCollateral, self.collateral(name), 1, account, sender=c["attacker"])

    def do_borrow(self, data):
        c = self.ctx
        account = c["borrowers"][self.draw(data, st.integers(0, 2), "borrower")]
        percent = self.draw(data, st.integers(1, 100), "percent of the room")
        snapshot = c["vault"].accountSnapshot(account)
        room = max(snapshot.borrowLimit - snapshot.debtValue, 0) // 10**12  # WAD USD to USDC at $1
        amount = max(room * percent // 100, MIN_DEBT)
        self.send("borrow", c["vault"].borrow, amount, account, account, sender=account)

    def do_repay(self, data):
        c = self.ctx
        account = c["borrowers"][self.draw(data, st.integers(0, 2), "borrower")]
        percent = self.draw(data, st.integers(1, 100), "percent of the debt")
        amount = MAX if percent == 100 else max(c["vault"].debtOf(account) * percent // 100, 1)
        self.send("repay", c["vault"].repay, amount, account, sender=account)

    def do_supply(self, data):
        c = self.ctx
        account = c["borrowers"][self.draw(data, st.integers(0, 2), "borrower")]
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        quarters = self.draw(data, st.integers(0, 20), "quarter units")
        amount = max(quarters * self.unit(name) // 4, 1)
        self.send("supply", c["vault"].supplyCollateral, self.collateral(name), amount, account, sender=account)

    def do_withdraw(self, data):
        c = self.ctx
        account = c["borrowers"][self.draw(data, st.integers(0, 2), "borrower")]
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        percent = self.draw(data, st.integers(1, 100), "percent")
        collateral = self.collateral(name)
        amount = max(c["vault"].collateralOf(account, collateral) * percent // 100, 1)
        self.send("withdraw", c["vault"].withdrawCollateral, collateral, amount, account, account, sender=account)

    def do_donate(self, data):
        """Tokens sent straight to the Vault or the liquidator, outside any entry point."""
        c = self.ctx
        name = self.draw(data, st.sampled_from(["usdc", "weth", "wbtc"]), "token")
        to = self.draw(data, st.sampled_from(["vault", "liquidator"]), "to")
        amount = {"usdc": 1_000 * USDC, "weth": ETH // 10, "wbtc": BTC // 100}[name]
        self.send("donate", c[name].transfer, c[to], amount, sender=c["attacker"])

    def do_deposit(self, data):
        c = self.ctx
        amount = self.draw(data, st.integers(1, 2_000_000), "USDC")
        self.send("deposit", c["vault"].deposit, amount * USDC, c["lender2"], sender=c["lender2"])

    def do_redeem(self, data):
        c = self.ctx
        percent = self.draw(data, st.integers(1, 100), "percent of the shares")
        shares = c["vault"].balanceOf(c["lender2"]) * percent // 100
        self.send("redeem", c["vault"].redeem, shares, c["lender2"], c["lender2"], sender=c["lender2"])

    def do_outage(self, data):
        """The asset's only feed stops answering fresh rounds until its price next moves."""
        c = self.ctx
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        feed = c["eth_feed"] if name == "weth" else c["btc_feed"]
        feed.setAnswerAt(self.prices[name] * 10**8, self.chain.blocks.head.timestamp - 7_200, sender=c["governor"])
        self.outage.add(name)
        self.count("outage")

    def do_fund_sells(self, data):
        c = self.ctx
        name = self.draw(data, st.sampled_from(["weth", "wbtc"]), "asset")
        if self.collateral(name).balanceOf(c["fund"]) > 0:
            self.send("fund sale", c["fund"].sellCollateral, self.collateral(name), sender=c["keeper"])

    def do_collect(self, data):
        c = self.ctx
        self.send("collect", c["vault"].collectReserves, sender=c["keeper"])

    def do_claim(self, data):
        c = self.ctx
        owed, balance = c["liquidator"].claimable(c["keeper"]), c["usdc"].balanceOf(c["fund"])
        tx = self.send("claim", c["liquidator"].claimIncentive, sender=c["keeper"])
        if tx is not None:
            assert tx.return_value == min(owed, balance), f"claimed {tx.return_value} of {owed} (fund {balance})"

    def do_breaker(self, data):
        c = self.ctx
        level = self.draw(data, st.sampled_from([0, 1, 0, 2, 0, 3]), "level")
        if self.send("breaker", c["liquidator"].setBreaker, level, sender=c["governor"]) is not None:
            self.breaker = level

    # ------------------------------------------------------------------ the README's invariants

    @invariant()
    def invariants_hold(self):
        c = self.ctx
        ids = sorted(self.auctions)
        names = ["weth", "wbtc"]
        accounts = [a.address for a in c["borrowers"]]
        # One eth_call: the lens accrues interest (kept by nothing) and reads every figure.
        r = c["lens"].read.call(c["vault"], c["liquidator"], accounts, [c[n].address for n in names], ids)
        m = len(names)

        # 1. Collateral is conserved: what the accounts hold and what live auctions sell is the
        #    recorded total, and the Vault holds at least that (anyone may donate).
        for k, name in enumerate(names):
            held = sum(r.collateral[a * m + k] for a in range(len(accounts)))
            lots = sum(a.lot for a in self.auctions.values() if a.collateral == c[name].address)
            assert held + lots == r.totalCollateral[k] <= r.vaultBalance[k], f"{name}: accounts {held}, lots {lots}"
            tabs = sum(
                a.tab
                for a in self.auctions.values()
                if a.collateral == c[name].address and a.account != c["fund"].address
            )
            assert tabs == r.liveTab[k], f"{name}: live tab {r.liveTab[k]}, auctions {tabs}"

        # 2. Debt is accounted: scaled debts sum to the total, live auctions' debts to auctionDebt;
        #    each live auction has something to sell and something to raise, its debt within its tab;
        #    the model built from events agrees with the contract's own view of each auction.
        assert sum(r.scaledDebt) == r.totalScaledDebt
        assert sum(a.debt for a in self.auctions.values()) == r.auctionDebt
        for i, auction_id in enumerate(ids):
            a = self.auctions[auction_id]
            assert (r.lots[i], r.tabs[i]) == (a.lot, a.tab), f"auction {auction_id}: model {a}"
            assert a.lot > 0 and a.tab > 0 and a.debt <= a.tab, f"auction {auction_id}: {a}"

        # 3. No account carries a debt above zero and below dust.
        for account, debt in zip(accounts, r.debt, strict=True):
            assert debt == 0 or debt >= r.minDebt, f"{account} carries dust debt {debt}"

        # 4. Lenders' assets add up, and the stored borrow index never falls. (A view's projection
        #    of it can: interest since the last accrual is priced at today's utilisation, which a
        #    token donation lowers. Every entry point that moves cash accrues first.)
        gross = r.cash + r.totalDebt + r.auctionDebt
        deductions = r.reserves + r.unvestedIncome + r.expectedLenderLoss
        assert r.totalAssets == max(gross - deductions, 0)
        assert r.borrowIndex >= self.index
        self.index = r.borrowIndex
        assert r.breaker == self.breaker

        # 5. Credited incentives are owed by the fund: the keeper (the only kicker) is owed them all.
        assert r.owedIncentives == c["liquidator"].claimable(c["keeper"])


@pytest.fixture
def ctx(project, chain, vault, liquidator, fund, usdc, weth, wbtc, eth_feed, btc_feed, usdc_feed, accounts, governor):
    """The base state plus three funded borrowers, a second lender, an attacker with a JitLender,
    a keeper with inventory, interest switched on, and the lens."""
    borrowers = [accounts[3], accounts[6], accounts[7]]
    lender2, keeper, attacker = accounts[5], accounts[4], accounts[9]
    charge_interest(vault, governor)
    for who in borrowers:
        for token, amount in ((weth, 200 * ETH), (wbtc, 20 * BTC), (usdc, 1_000_000 * USDC)):
            token.mint(who, amount, sender=governor)
            token.approve(vault, MAX, sender=who)
    usdc.mint(lender2, 10_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=lender2)
    jit = project.JitLender.deploy(sender=governor)
    for token, amount in ((usdc, 100_000_000 * USDC), (weth, 10 * ETH), (wbtc, BTC)):
        token.mint(attacker, amount, sender=governor)
        token.approve(vault, MAX, sender=attacker)
    usdc.mint(jit, 100_000_000 * USDC, sender=governor)
    usdc.mint(keeper, 100_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=keeper)  # the Vault pulls a take's payment
    for who in borrowers:  # open positions so the first steps have something to work on
        vault.supplyCollateral(weth, 10 * ETH, who, sender=who)
        vault.borrow(13_500 * USDC + borrowers.index(who) * 500 * USDC, who, who, sender=who)  # under at $1,690-1,815
    return {
        "chain": chain, "vault": vault, "liquidator": liquidator, "fund": fund, "usdc": usdc, "weth": weth,
        "wbtc": wbtc, "eth_feed": eth_feed, "btc_feed": btc_feed, "usdc_feed": usdc_feed, "governor": governor,
        "borrowers": borrowers, "lender2": lender2, "keeper": keeper, "attacker": attacker, "jit": jit,
        "lens": project.InvariantLens.deploy(sender=governor),
    }  # fmt: skip


def test_fuzz_invariants_hold(ctx, project, capsys):
    Gavel.ctx = ctx
    ERRORS.update(error_selectors(project))
    started = time.monotonic()
    searching = SECONDS > 0
    while True:
        run_state_machine_as_test(
            Gavel,
            settings=settings(
                max_examples=10 if searching else SEQUENCES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=not searching,
                database=None,
                suppress_health_check=list(HealthCheck),
                print_blob=True,
            ),
        )
        if not searching or time.monotonic() - started >= SECONDS:
            break
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nfuzz: {STATS.sequences} sequences, {STATS.steps} steps in {elapsed:.0f}s "
            f"({'new random sequences' if searching else 'the fixed CI sequences'}, up to {STEPS} steps each)"
        )
        print("fuzz: done " + ", ".join(f"{k} {v}" for k, v in sorted(STATS.moves.items())))
        print("fuzz: refused " + ", ".join(f"{k} {v}" for k, v in sorted(STATS.refused.items())))
    assert STATS.moves.get("kick", 0) > 0 and STATS.moves.get("take", 0) > 0, STATS
