"""Stateful fuzzing with Hypothesis: random sequences of everything users, keepers and attackers
can do, with every invariant in docs/design.md and a set of economic checks tested after every
transaction, and a failure shrunk to the shortest sequence that still breaks one.

Why Hypothesis rather than Foundry's invariant testing: it is already pinned, it drives the same
real contracts on the same Anvil as the rest of the suite (the real OpenZeppelin ERC-4626, the
real curves), its failures shrink to a minimal list of steps printed as Python, and the model it
checks the contracts against (the auctions, rebuilt from events) is plain Python beside the
`money` helpers.

The world: a deployment of its own, with `ape run deploy`'s parameters, whose debt token calls
its receivers back (ERC-777-style hooks, `HookedERC20`), and three collaterals of 18, 8 and 0
decimals (WETH priced by three feeds, so one can be disputed; WBTC; PENNY, a whole-unit token at
5 cents, as coarse as a listing allows), behind an L2 sequencer feed. Three borrowers, a lender who
never acts (the yardstick of
lenders' assets), a second lender, a keeper, a keeper contract that kicks from inside its own
claim (`HookKeeper`), and an attacker.

Moves: supply, withdraw, borrow and repay (also while the account's auctions run), deposits and
redemptions, price falls and rises (also after kicks), outages of each kind (a stale collateral
feed, a stale debt-token feed, a disputed source, the sequencer down), time, kicks, takes, redos,
breaker changes, reserves collected, the fund topped up and selling what it seized, incentives
claimed (also with a kick inside the claim), and the attack shapes: tokens donated to the Vault or
the liquidator, dust attached to another's account, a deposit-take-redeem and a
deposit-sale-take-redeem in one transaction (`JitLender`, which must never profit).

Economic checks, after every transaction:
- no debt is written off while its account still holds collateral or has a live auction;
- no account receives collateral from an auction after its debt was written off;
- nobody escapes an auction's shortfall: an account whose auction debt is written off took
  nothing out (collateral withdrawn, a new borrow) while that auction ran;
- lenders' assets never rise within a block except by interest and income unlocking: the lender
  who never acts is worth no more after any transaction than just before it, at the same second,
  at the level of lenders' assets booked at the last step (a fall not yet booked, an oracle price
  falling between steps, may come back up to that level; no deposit can catch it, as every
  deposit books it first);
- a lender who redeems never gets more than its shares are worth at the live-price value of the
  books (every live auction's lot at the feeds' prices, each against its own debt);
- a take below the floor waives at most half its auction's penalty in all, as the liquidator
  counts it (`penaltyWaived`).

Budget: in `make test` (and CI) a fixed number of derandomised sequences (`FUZZ_SEQUENCES`), so
every run tries the same ones whatever the machine's speed; `make fuzz` draws new ones for
`FUZZ_SECONDS`. Each sequence has up to `FUZZ_STEPS` steps; `FUZZ_SKIP` leaves moves out and
`FUZZ_OFF` economic checks (comma lists, to look past one finding for the next). The figures
(sequences, steps, time, and what was done and refused) are printed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from scripts._deployment import CollateralSpec, ProtocolConfig, deploy_protocol, list_collateral

USDC, ETH, BTC = 10**6, 10**18, 10**8
WAD = 10**18
MAX = 2**256 - 1
STEPS = int(os.environ.get("FUZZ_STEPS", "30"))
SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", "80"))  # the CI budget
SECONDS = float(os.environ.get("FUZZ_SECONDS", "0"))  # make fuzz: draw new sequences for this long
SKIP = {m for m in os.environ.get("FUZZ_SKIP", "").split(",") if m}
# Economic checks switched off (a comma list of writeoff, escape, rise, fair): to look past one
# finding for the next when searching old code; `make test` runs them all.
OFF = {m for m in os.environ.get("FUZZ_OFF", "").split(",") if m}

COLLATERALS = ("weth", "wbtc", "penny")
# What the moves count in: a whole WETH or WBTC, and 10,000 units of PENNY (0 decimals, 5 cents a
# unit: as coarse as a listing allows with 100 USDC of dust, $500 a "whole").
UNIT = {"weth": ETH, "wbtc": BTC, "penny": 10_000}
DECIMALS = {"weth": 18, "wbtc": 8, "penny": 0}
START_PRICE = {"weth": 2_000 * 10**8, "wbtc": 30_000 * 10**8, "penny": 5 * 10**6}  # feed answers, 8 decimals
FLOOR_PRICE = {"weth": 50 * 10**8, "wbtc": 1_000 * 10**8, "penny": 10**5}
SEQUENCER_GRACE = 600  # [s]

# A revert is fine when it is one of the protocol's named refusals (or ERC-4626's limits);
# anything else (a panic, an unnamed revert, a token's own error) fails the sequence.
NAMED = {
    "ZeroAmount", "ZeroAddress", "InvalidCollateral", "SupplyCapExceeded", "InsufficientCollateralBalance",
    "InsufficientCollateral", "InsufficientLiquidity", "DebtBelowMinimum", "NoDebt", "Unauthorized",
    "NotLiquidatable", "KickBelowDust", "AuctionCapReached", "PriceUnavailable", "BreakerActive",
    "AuctionNotActive", "AuctionNeedsRedo", "AuctionNotDone", "PriceAboveMax", "TakeWouldLeaveDust",
    "TakeTooSmall", "NotSellable", "BreakerNotRaised", "AuctionsLive",
    "ERC4626ExceededMaxWithdraw", "ERC4626ExceededMaxRedeem",
}  # fmt: skip


def _hex(data) -> str:
    return data if isinstance(data, str) else "0x" + bytes(data).hex()


def error_selectors(project) -> dict[str, str]:
    """{"0x12345678": name} for every custom error in the project's contracts' ABIs (OpenZeppelin's
    included), so the fuzzer names a refusal from its revert data without asking Ape to trace it."""
    out = {"0x4e487b71": "Panic", "0x08c379a0": "Error(string)"}
    for contract_type in project.contracts.values():
        for abi in contract_type.errors:
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
    penalty: int = 0  # [debt decimals] at the kick
    waived: int = 0  # of its penalty, by takes below the floor


@dataclass
class Stats:
    sequences: int = 0
    steps: int = 0
    below_floor: int = 0  # takes whose penalty paid part of the keeper's discount
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
        self.prices = dict(START_PRICE)
        self.outage: set[str] = set()  # "weth", "wbtc", "penny", "usdc", "sequencer", "dispute"
        self.auctions: dict[int, Lot] = {}
        self.breaker = 0
        self.index = WAD
        self.written_off: set[str] = set()  # accounts whose debt was written off since their last kick
        self.took_out: set[str] = set()  # accounts that withdrew or borrowed while an auction of theirs ran
        self.returned: set[str] = set()  # accounts an auction of their own gave debt back to
        STATS.sequences += 1

    def teardown(self) -> None:
        self.chain.restore(self.snapshot)

    # ------------------------------------------------------------------ helpers

    def rpc(self, method: str, params: list) -> dict:
        return self.chain.provider.web3.provider.make_request(method, params)

    def call(self, contract, method: str, *args, block: str = "latest"):
        """One view through eth_call at `block` ("pending": the state a transaction sent now sees,
        at the second it will be mined), decoded."""
        fn = getattr(contract, method)
        data = _hex(fn.encode_input(*args))
        answer = self.rpc("eth_call", [{"to": contract.address, "data": data}, block])
        assert "error" not in answer, f"{method}: {answer['error']}"
        abi = next(a for a in contract.contract_type.methods if a.name == method)
        types = [o.canonical_type for o in abi.outputs]
        values = abi_decode(types, bytes.fromhex(answer["result"][2:]))
        return values[0] if len(values) == 1 else values

    def booked_worth(self, block: str) -> int:
        """[USDC units] What the lender who never acts is worth at the level of lenders' assets
        last booked: the books' cash and debts, less reserves, income unlocking and what lenders
        leave out for live auctions as booked at the last step (lenders' assets may fall below it
        at once, when the oracle or the fund's cover shows a loss, and come back up to it)."""
        r = self.read(block)
        gross = r.cash + r.totalDebt + r.auctionDebt
        total = max(gross - r.reserves - r.bookedUnvested - r.bookedLenderLoss, 0)
        return self.ctx["lender_shares"] * (total + 1) // (r.totalSupply + 10**6)

    def send(self, name: str, method, *args, sender) -> object | None:
        """Simulate one transaction against the pending block (where it will run: the clock is
        deterministic); a named refusal is counted and nothing is sent, anything else (a panic,
        an unnamed revert) fails the sequence. What would succeed is sent, every auction event in
        its receipt updates the model, and the economic checks run on it. (Simulating first is ten
        times faster than letting Ape trace a reverted transaction.)"""
        if name in SKIP:
            return None
        STATS.steps += 1
        call = {"from": sender.address, "to": method.contract.address, "data": _hex(method.encode_input(*args))}
        answer = self.rpc("eth_call", [call, "pending"])
        if "error" in answer:
            error = ERRORS.get(str(answer["error"].get("data") or "0x")[:10], f"unnamed {answer['error']}")
            assert error in NAMED, f"{name}: unexpected revert {error}"
            STATS.refused[f"{name}: {error}"] = STATS.refused.get(f"{name}: {error}", 0) + 1
            return None
        tx = self.transact(name, method, *args, sender=sender)
        STATS.moves[name] = STATS.moves.get(name, 0) + 1
        return tx

    def transact(self, name: str, method, *args, sender):
        """Send one transaction that is known to succeed, and check what it did."""
        before = self.booked_worth("pending")
        tx = method(*args, sender=sender)
        self.follow(tx)
        after = self.booked_worth("latest")
        assert "rise" in OFF or after <= before + 1, f"{name}: lenders' assets rose {after - before} within the block"
        self.economics(name, tx)
        return tx

    def follow(self, tx) -> None:
        liquidator = self.ctx["liquidator"]
        for e in tx.events.filter(liquidator.Kick):
            self.auctions[e.id] = Lot(e.account, e.collateral, e.lot, e.tab, e.debt, e.tab - e.debt)
            self.written_off.discard(e.account)
        for e in tx.events.filter(liquidator.Take):
            a = self.auctions[e.id]
            waived = a.tab - e.tabLeft - e.paid  # of the penalty: the rest of the tab cleared was paid
            if waived > 0:
                STATS.below_floor += 1
                a.waived += waived
                # Half its penalty at most, as the liquidator counts it.
                assert "waiver" in OFF or a.waived <= a.penalty // 2, (e.id, a.waived, a.penalty)
                if e.lotLeft and e.tabLeft:
                    assert "waiver" in OFF or liquidator.penaltyWaived(e.id) == a.waived, e.id
            a.debt -= min(e.paid, a.debt)
            a.lot, a.tab = e.lotLeft, e.tabLeft
        for e in tx.events.filter(liquidator.Redo):
            self.auctions[e.id].tab = e.tab  # a sale of the fund's collateral re-prices its tab
        for e in tx.events.filter(liquidator.AuctionEnded):
            self.auctions.pop(e.id)
        for e in tx.events.filter(self.ctx["vault"].DebtReturned):
            self.returned.add(e.account)

    def live_auctions_of(self, account: str) -> list[int]:
        return [i for i, a in self.auctions.items() if a.account == account]

    def economics(self, name: str, tx) -> None:
        """The economic checks that read a transaction's events (the module's docstring)."""
        c = self.ctx
        vault = c["vault"]
        for e in tx.events.filter(vault.ShortfallSettled):
            account = e.account
            held = {n: vault.collateralOf(account, c[n]) for n in COLLATERALS}
            live = self.live_auctions_of(account)
            assert "writeoff" in OFF or (not any(held.values()) and not live), (
                f"{name}: {e.shortfall} of {account}'s debt written off while it still holds {held}"
                f" and has live auctions {live}"
            )
            assert "escape" in OFF or account not in self.took_out, (
                f"{name}: {account}'s auction debt ({e.shortfall}) written off after it took value out while it ran"
            )
            self.written_off.add(account)
        for e in tx.events.filter(vault.CollateralReturned):
            assert "writeoff" in OFF or e.account not in self.written_off, (
                f"{name}: {e.amount} of {e.collateral} returned to {e.account}, whose debt was written off"
            )
        for account in list(self.took_out):
            if not self.live_auctions_of(account):
                self.took_out.discard(account)

    def fair_worth(self, shares: int, r) -> int:
        """[USDC units] what `shares` are worth at the live-price value of the books: each live
        auction's lot at its feeds' prices against its own debt (rounded against the lender), what
        reserves and the fund cover of it, and everything else as the books hold it."""
        c = self.ctx
        loss = 0
        for a in self.auctions.values():
            if a.account == c["fund"].address:
                continue
            name = next(n for n in COLLATERALS if c[n].address == a.collateral)
            worth = a.lot * self.prices[name] * USDC // (10 ** DECIMALS[name] * 10**8)
            loss += max(a.debt - worth, 0)
        total = r.cash + r.totalDebt + r.auctionDebt - r.reserves - r.unvestedIncome - max(loss - r.coverage, 0)
        return shares * (max(total, 0) + 1) // (r.totalSupply + 10**6)

    def count(self, name: str) -> None:
        STATS.steps += 1
        STATS.moves[name] = STATS.moves.get(name, 0) + 1

    def feeds(self, name: str) -> list:
        return self.ctx["feeds"][name]

    def refresh_feeds(self, names=COLLATERALS) -> None:
        """Every feed not in an outage answers its asset's price, now."""
        c = self.ctx
        for name in names:
            if name in self.outage:
                continue
            for k, feed in enumerate(self.feeds(name)):
                answer = self.prices[name]
                if name == "weth" and k == 2 and "dispute" in self.outage:
                    answer = answer * 11 // 10  # one source of three 10% off: Disputed
                self.transact("feed", feed.setAnswer, answer, sender=c["governor"])

    def pick(self, data) -> int | None:
        return data.draw(st.sampled_from(sorted(self.auctions))) if self.auctions else None

    def borrower(self, data, label="borrower"):
        """One of the three borrowers; one with a live auction of its own is drawn twice as often,
        as what an account does while its auctions run is where the books can go wrong."""
        borrowers = self.ctx["borrowers"]
        live = [b for b in borrowers if self.live_auctions_of(b.address)]
        return data.draw(st.sampled_from(borrowers + live), label=label)

    @initialize(
        eth=st.sampled_from([1_750, 1_700, 1_650, 1_600, 2_000, 1_300, 700, 1_500, 1_780]),
        extra=st.sampled_from(["", "wbtc", "penny"]),
    )
    def start(self, eth, extra):
        """Where the sequence starts: ETH at a price that leaves the borrowers (liquidation prices
        $1,690-1,815) healthy or not (at $1,650, $1,700, $1,750 and $1,780 one of them is kicked in
        part, health above 0.95), and perhaps with WBTC or PENNY in their accounts too."""
        c = self.ctx
        if extra:
            amount = BTC // 20 if extra == "wbtc" else 40_000  # $1,500; $2,000
            for account in c["borrowers"]:
                self.transact("supply", c["vault"].supplyCollateral, c[extra], amount, account, sender=account)
        self.prices["weth"] = eth * 10**8
        self.refresh_feeds(["weth"])

    # One rule draws the next move from a weighted list, rather than one rule per move: Hypothesis
    # runs stateful tests as "swarm" tests that switch whole rules off for a sequence, which left
    # many sequences with no take at all. Each move draws its own arguments, so failures still
    # shrink, and the falsifying sequence prints every draw.
    MOVES = (
        ["kick"] * 5 + ["take"] * 7 + ["price"] * 5 + ["wait"] * 3 + ["redo"] * 2 + ["jit"] * 2 + ["borrow"] * 2
        + ["repay"] * 3 + ["supply"] * 2 + ["withdraw"] * 3 + ["deposit"] * 3 + ["redeem"] * 2 + ["outage"] * 2
        + ["top_up"] * 2 + ["leave"] * 2
        + ["dust", "donate", "recover", "fund_sells", "jit_sale", "collect", "breaker", "claim"]
        + ["hook_kick", "hook_claim"]
    )  # fmt: skip

    @rule(data=st.data())
    def step(self, data):
        move = data.draw(st.sampled_from([m for m in self.MOVES if m not in SKIP]), label="move")
        getattr(self, f"do_{move}")(data)

    def do_price(self, data):
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        percent = data.draw(st.sampled_from([-30, -20, -10, -5, 5, 10, 20, 30, -45]), label="percent")
        self.prices[name] = max(FLOOR_PRICE[name], self.prices[name] * (100 + percent) // 100)
        self.outage.discard(name)
        self.refresh_feeds([name])
        self.count("price")

    def do_kick(self, data):
        c = self.ctx
        tx = self.send("kick", c["vault"].liquidate, self.borrower(data), sender=c["keeper"])
        if self.breaker >= 1:
            assert tx is None, "a kick went through with the breaker raised"

    def do_take(self, data):
        c, auction_id = self.ctx, self.pick(data)
        if auction_id is None:
            return
        percent = data.draw(st.sampled_from([100, 100, 60, 30, 10, 1]), label="percent of the lot")
        if c["liquidator"].getStatus(auction_id).needsRedo:  # as a keeper would: restart it first
            self.send("redo", c["liquidator"].redo, auction_id, sender=c["keeper"])
            if auction_id not in self.auctions:
                return  # a dust lot was written off instead
        amount = max(self.auctions[auction_id].lot * percent // 100, 1)
        self.send("take", c["liquidator"].take, auction_id, amount, MAX, c["keeper"], b"", sender=c["keeper"])

    def do_wait(self, data):
        # A second; a minute; ten; past the cusp (12 minutes); past the tail (2 h); a day (income unlocks).
        seconds = data.draw(st.sampled_from([60, 600, 900, 7_300, 86_400, 1]), label="seconds")
        self.chain.pending_timestamp = self.chain.blocks.head.timestamp + seconds
        c = self.ctx
        if "usdc" not in self.outage:  # mined at that timestamp
            self.transact("feed", c["usdc_feed"].setAnswer, 10**8, sender=c["governor"])
        else:
            self.chain.mine()
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
        amount = data.draw(st.integers(1, 9_000_000), label="deposit")
        args = (c["vault"], c["liquidator"], auction_id, amount * USDC, MAX)
        tx = self.send("jit", c["jit"].attack, *args, sender=c["attacker"])
        if tx is not None:
            deposited, redeemed = tx.return_value
            assert redeemed <= deposited, f"a deposit-take-redeem made {redeemed - deposited}"

    def do_jit_sale(self, data):
        """Deposit, start a sale of the fund's collateral, buy it, redeem: it must never pay."""
        c = self.ctx
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        if c[name].balanceOf(c["fund"]) == 0:
            return
        amount = data.draw(st.integers(1, 9_000_000), label="deposit")
        args = (c["vault"], c["fund"], c["liquidator"], c[name], amount * USDC)
        tx = self.send("jit_sale", c["jit"].attackSale, *args, sender=c["attacker"])
        if tx is not None:
            deposited, redeemed = tx.return_value
            assert redeemed <= deposited, f"a deposit-sale-take-redeem made {redeemed - deposited}"

    def do_dust(self, data):
        """Someone attaches one unit of collateral to another's account."""
        c = self.ctx
        account = self.borrower(data, "victim")
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        self.send("dust", c["vault"].supplyCollateral, c[name], 1, account, sender=c["attacker"])

    def do_borrow(self, data):
        c = self.ctx
        account = self.borrower(data)
        percent = data.draw(st.integers(1, 100), label="percent of the room")
        answer = self.rpc(
            "eth_call",
            [{"to": c["vault"].address, "data": _hex(c["vault"].accountSnapshot.encode_input(account))}, "pending"],
        )
        if "error" in answer:  # no price for the debt token: a borrow would be refused anyway
            room = 0
        else:
            snapshot = abi_decode(["uint256"] * 6, bytes.fromhex(answer["result"][2:]))
            room = max(snapshot[4] - snapshot[1], 0) // 10**12  # borrowLimit - debtValue, WAD USD to USDC at $1
        amount = max(room * percent // 100, 100 * USDC)
        tx = self.send("borrow", c["vault"].borrow, amount, account, account, sender=account)
        if tx is not None and self.live_auctions_of(account.address):
            self.took_out.add(account.address)

    def do_repay(self, data):
        c = self.ctx
        account = self.borrower(data)
        percent = data.draw(st.sampled_from([100, 100, 50, 10, 1]), label="percent of the debt")
        amount = MAX if percent == 100 else max(c["vault"].debtOf(account) * percent // 100, 1)
        self.send("repay", c["vault"].repay, amount, account, sender=account)

    def do_supply(self, data):
        c = self.ctx
        account = self.borrower(data)
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        quarters = data.draw(st.integers(0, 20), label="quarter units")
        amount = max(quarters * UNIT[name] // 4, 1)
        self.send("supply", c["vault"].supplyCollateral, c[name], amount, account, sender=account)

    def do_withdraw(self, data):
        c = self.ctx
        account = self.borrower(data)
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        percent = data.draw(st.sampled_from([100, 100, 50, 10]), label="percent")
        amount = max(c["vault"].collateralOf(account, c[name]) * percent // 100, 1)
        tx = self.send("withdraw", c["vault"].withdrawCollateral, c[name], amount, account, account, sender=account)
        if tx is not None and self.live_auctions_of(account.address):
            self.took_out.add(account.address)

    def do_leave(self, data):
        """A borrower closes its position: repays all it owes and takes out everything it holds."""
        c = self.ctx
        account = self.borrower(data)
        if c["vault"].debtOf(account) > 0:
            self.send("repay", c["vault"].repay, MAX, account, sender=account)
        for name in COLLATERALS:
            held = c["vault"].collateralOf(account, c[name])
            if held == 0:
                continue
            tx = self.send("withdraw", c["vault"].withdrawCollateral, c[name], held, account, account, sender=account)
            if tx is not None and self.live_auctions_of(account.address):
                self.took_out.add(account.address)
        self.count("leave")

    def do_donate(self, data):
        """Tokens sent straight to the Vault or the liquidator, outside any entry point."""
        c = self.ctx
        name = data.draw(st.sampled_from(["usdc", "weth", "wbtc", "penny"]), label="token")
        to = data.draw(st.sampled_from(["vault", "liquidator"]), label="to")
        amount = {"usdc": 1_000 * USDC, "weth": ETH // 10, "wbtc": BTC // 100, "penny": 1_000}[name]
        self.send("donate", c[name].transfer, c[to], amount, sender=c["attacker"])

    def do_deposit(self, data):
        c = self.ctx
        amount = data.draw(st.integers(1, 9_000_000), label="USDC")
        self.send("deposit", c["vault"].deposit, amount * USDC, c["lender2"], sender=c["lender2"])

    def do_redeem(self, data):
        """The second lender redeems: never more than its shares are worth at live prices."""
        c = self.ctx
        percent = data.draw(st.sampled_from([100, 100, 50, 1]), label="percent of the shares")
        shares = c["vault"].balanceOf(c["lender2"]) * percent // 100
        fair = self.fair_worth(shares, self.read("pending")) if shares else 0
        tx = self.send("redeem", c["vault"].redeem, shares, c["lender2"], c["lender2"], sender=c["lender2"])
        if tx is not None:
            got = tx.return_value
            assert "fair" in OFF or got <= fair + 1, f"redeemed {got}, worth {fair} at live prices"

    def do_outage(self, data):
        """An outage of one kind, until a price move (or `recover`) ends it."""
        c = self.ctx
        kind = data.draw(st.sampled_from(["weth", "wbtc", "penny", "usdc", "sequencer", "dispute"]), label="kind")
        stale = self.chain.blocks.head.timestamp
        if kind in COLLATERALS:  # its feeds stop: their last round is older than the heartbeat
            for feed in self.feeds(kind):
                self.transact("outage", feed.setAnswerAt, self.prices[kind], stale - 7_200, sender=c["governor"])
        elif kind == "usdc":  # one second past its 24-hour heartbeat
            self.transact("outage", c["usdc_feed"].setAnswerAt, 10**8, stale - 86_400, sender=c["governor"])
        elif kind == "sequencer":
            self.transact("outage", c["sequencer"].setAnswer, 1, sender=c["governor"])
        self.outage.add(kind)
        if kind == "dispute":
            self.refresh_feeds(["weth"])
        self.count("outage")

    def do_recover(self, data):
        """Every outage ends (the sequencer's grace period starts)."""
        c = self.ctx
        if "sequencer" in self.outage:
            self.transact("recover", c["sequencer"].setAnswer, 0, sender=c["governor"])
        if "usdc" in self.outage:
            self.transact("recover", c["usdc_feed"].setAnswer, 10**8, sender=c["governor"])
        self.outage.clear()
        self.refresh_feeds()
        self.count("recover")

    def do_top_up(self, data):
        """The governor tops up the InsuranceFund."""
        c = self.ctx
        amount = data.draw(st.sampled_from([1_000, 30_000, 200_000]), label="USDC")
        self.send("top_up", c["fund"].fund, amount * USDC, sender=c["governor"])

    def do_fund_sells(self, data):
        c = self.ctx
        name = data.draw(st.sampled_from(COLLATERALS), label="asset")
        if c[name].balanceOf(c["fund"]) > 0:
            self.send("fund sale", c["fund"].sellCollateral, c[name], sender=c["keeper"])

    def do_collect(self, data):
        c = self.ctx
        self.send("collect", c["vault"].collectReserves, sender=c["keeper"])

    def do_claim(self, data):
        c = self.ctx
        owed, balance = c["liquidator"].claimable(c["keeper"]), c["usdc"].balanceOf(c["fund"])
        tx = self.send("claim", c["liquidator"].claimIncentive, sender=c["keeper"])
        if tx is not None:
            assert tx.return_value == min(owed, balance), f"claimed {tx.return_value} of {owed} (fund {balance})"

    def do_hook_kick(self, data):
        """The keeper contract kicks, to be owed an incentive."""
        c = self.ctx
        self.send("hook_kick", c["hook_keeper"].kick, self.borrower(data), sender=c["keeper"])

    def do_hook_claim(self, data):
        """The keeper contract claims, and kicks from inside the fund's payment."""
        c = self.ctx
        self.send("hook_claim", c["hook_keeper"].claimKicking, self.borrower(data), sender=c["keeper"])

    def do_breaker(self, data):
        c = self.ctx
        level = data.draw(st.sampled_from([0, 1, 0, 2, 0, 3]), label="level")
        if self.send("breaker", c["liquidator"].setBreaker, level, sender=c["governor"]) is not None:
            self.breaker = level

    # ------------------------------------------------------------- docs/design.md's invariants

    def read(self, block: str = "latest"):
        """Every figure in one eth_call (the lens accrues interest, kept by nothing)."""
        c = self.ctx
        ids = sorted(self.auctions)
        accounts = [a.address for a in c["borrowers"]]
        args = (c["vault"], c["liquidator"], accounts, [c[n].address for n in COLLATERALS], ids)
        return c["lens"].read.call(*args, block_id=block)

    @invariant()
    def invariants_hold(self):
        c = self.ctx
        ids = sorted(self.auctions)
        accounts = [a.address for a in c["borrowers"]]
        r = self.read()
        m = len(COLLATERALS)

        # 1. Collateral is conserved: what the accounts hold and what live auctions sell is the
        #    recorded total, and the Vault holds at least that (anyone may donate).
        for k, name in enumerate(COLLATERALS):
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

        # 3. No account carries a debt above zero and below dust, unless an auction of its own gave
        #    it back (the account stays liable for it; its next kick closes it whole).
        for account, debt in zip(accounts, r.debt, strict=True):
            assert debt == 0 or debt >= r.minDebt or account in self.returned, f"{account} carries dust debt {debt}"

        # 4. Lenders' assets add up (the books' cash, never more than the Vault holds), and the
        #    stored borrow index never falls. (A view's projection of it can: interest since the last
        #    accrual is priced at today's utilisation.)
        gross = r.cash + r.totalDebt + r.auctionDebt
        deductions = r.reserves + r.unvestedIncome + r.expectedLenderLoss
        assert r.totalAssets == max(gross - deductions, 0)
        assert r.cash <= r.debtBalance
        assert r.borrowIndex >= self.index
        self.index = r.borrowIndex
        assert r.breaker == self.breaker

        # 5. Credited incentives are owed by the fund: to the keeper and the keeper contract (the
        #    only kickers), exactly.
        owed = sum(c["liquidator"].claimable(k) for k in (c["keeper"], c["hook_keeper"]))
        assert r.owedIncentives == owed, f"owedIncentives {r.owedIncentives}, credited and unpaid {owed}"


@pytest.fixture
def ctx(project, chain, accounts):
    """A deployment of its own with `ape run deploy`'s parameters (see the module's docstring),
    funded, with three borrowers' positions open, and the lens."""
    governor, guardian, lender = accounts[0], accounts[1], accounts[2]
    borrowers = [accounts[3], accounts[6], accounts[7]]
    lender2, keeper, attacker = accounts[5], accounts[4], accounts[9]
    usdc = project.HookedERC20.deploy("Hooked USD", "USDC", 6, sender=governor)
    specs = {
        "weth": CollateralSpec("WETH", 18, START_PRICE["weth"]),
        "wbtc": CollateralSpec(
            "WBTC",
            8,
            START_PRICE["wbtc"],
            max_ltv=70 * WAD // 100,
            liquidation_threshold=75 * WAD // 100,
            penalty=4 * WAD // 100,
        ),
        "penny": CollateralSpec("PENNY", 0, 1),
    }
    config = ProtocolConfig(collaterals=tuple(specs.values()))
    contracts = deploy_protocol(project, governor, governor, guardian, usdc, config)
    vault, liquidator, fund, oracle = (contracts[k] for k in ("vault", "liquidator", "insurance_fund", "oracle"))
    usdc_feed = project.MockAggregator.deploy(8, "USDC / USD", 10**8, sender=governor)
    oracle.setSources(usdc, [usdc_feed], [config.debt_heartbeat], 1, config.max_deviation, sender=governor)
    tokens, feeds = {}, {}
    for name, spec in specs.items():
        tokens[name] = project.MockERC20.deploy(f"Test {spec.symbol}", spec.symbol, spec.decimals, sender=governor)
        sources = 3 if name == "weth" else 1  # WETH: the median of three, two needed, so one can be disputed
        feeds[name] = [
            project.MockAggregator.deploy(8, f"{spec.symbol} / USD {k}", START_PRICE[name], sender=governor)
            for k in range(sources)
        ]
        list_collateral(contracts, governor, tokens[name], feeds[name], spec, config, USDC, quorum=min(2, sources))
    sequencer = project.MockAggregator.deploy(0, "L2 sequencer", 0, sender=governor)
    sequencer.setAnswerAt(0, chain.pending_timestamp - 2 * SEQUENCER_GRACE, sender=governor)  # up, for long
    oracle.setSequencerFeed(sequencer, SEQUENCER_GRACE, sender=governor)

    usdc.mint(lender, 1_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=lender)
    vault.deposit(1_000_000 * USDC, lender, sender=lender)
    usdc.mint(governor, 100_000_000 * USDC, sender=governor)
    usdc.approve(fund, MAX, sender=governor)
    fund.fund(10_000 * USDC, sender=governor)
    for who in borrowers:
        for name, amount in (("weth", 200 * ETH), ("wbtc", 20 * BTC), ("penny", 4_000_000)):
            tokens[name].mint(who, amount, sender=governor)
            tokens[name].approve(vault, MAX, sender=who)
        usdc.mint(who, 1_000_000 * USDC, sender=governor)
        usdc.approve(vault, MAX, sender=who)
    usdc.mint(lender2, 100_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=lender2)
    jit = project.JitLender.deploy(sender=governor)
    usdc.mint(jit, 100_000_000 * USDC, sender=governor)
    for name, amount in (("weth", 10 * ETH), ("wbtc", BTC), ("penny", 100_000)):
        tokens[name].mint(attacker, amount, sender=governor)
        tokens[name].approve(vault, MAX, sender=attacker)
    usdc.mint(attacker, 100_000_000 * USDC, sender=governor)
    usdc.mint(keeper, 100_000_000 * USDC, sender=governor)
    usdc.approve(vault, MAX, sender=keeper)  # the Vault pulls a take's payment
    hook_keeper = project.HookKeeper.deploy(vault, liquidator, usdc, sender=governor)
    for who in borrowers:  # open positions so the first steps have something to work on
        vault.supplyCollateral(tokens["weth"], 10 * ETH, who, sender=who)
        vault.borrow(13_500 * USDC + borrowers.index(who) * 500 * USDC, who, who, sender=who)  # under at $1,690-1,815

    return {
        "chain": chain, "vault": vault, "liquidator": liquidator, "fund": fund, "oracle": oracle, "usdc": usdc,
        "usdc_feed": usdc_feed, "feeds": feeds, "sequencer": sequencer, "governor": governor,
        "borrowers": borrowers, "lender2": lender2, "keeper": keeper, "attacker": attacker, "jit": jit,
        "hook_keeper": hook_keeper, "lender_shares": vault.balanceOf(lender),
        "lens": project.InvariantLens.deploy(sender=governor), **tokens,
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
        print(f"fuzz: {STATS.below_floor} takes below the floor, paid in part by the penalty")
    assert STATS.moves.get("kick", 0) > 0 and STATS.moves.get("take", 0) > 0, STATS
