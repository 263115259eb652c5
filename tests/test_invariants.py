"""Stateful fuzzing: seeded random walks of supply, borrow, repay, withdraw, price moves, time,
kicks, takes and redos, with the protocol's invariants (the README's list) checked after every
step. Seeded, so a CI run is repeatable; a failure names the seed and the step. (Seeds 2 and 6
wander upwards and never reach a kick, which the last assertion would report; these three do.)

Any revert must be one of the protocol's named errors: a panic (overflow, underflow) fails. The
walk must also reach kicks and takes, or it would prove nothing about them."""

import random
from collections import Counter

import pytest
from ape.exceptions import ContractLogicError

from conftest import MIN_DEBT, WAD, charge_interest

USDC = 10**6
ETH = 10**18
STEPS = 40
NAMED_ERRORS = {
    "ZeroAmount", "InsufficientCollateral", "InsufficientLiquidity", "DebtBelowMinimum", "NoDebt",
    "NotLiquidatable", "KickBelowDust", "AuctionCapReached", "InsufficientCollateralBalance",
    "AuctionNeedsRedo", "AuctionNotDone", "AuctionNotActive", "TakeWouldLeaveDust", "TakeTooSmall",
    "PriceAboveMax", "PriceUnavailable", "SupplyCapExceeded",
}  # fmt: skip


class Walk:
    """One random walk over the protocol, from the test's base state."""

    def __init__(self, seed, chain, vault, liquidator, usdc, weth, eth_feed, usdc_feed, borrowers, keeper, governor):
        self.rng = random.Random(seed)
        self.chain, self.vault, self.liquidator = chain, vault, liquidator
        self.usdc, self.weth, self.eth_feed, self.usdc_feed = usdc, weth, eth_feed, usdc_feed
        self.borrowers, self.keeper, self.governor = borrowers, keeper, governor
        self.price = 2_000
        self.done: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def attempt(self, name, call) -> None:
        try:
            call()
        except ContractLogicError as err:
            error = type(err).__name__
            assert error in NAMED_ERRORS, f"{name}: unexpected revert {error}: {err}"
            self.refused[f"{name}: {error}"] += 1
            return
        self.done[name] += 1

    def refresh_feeds(self):
        self.eth_feed.setAnswer(self.price * 10**8, sender=self.governor)
        self.usdc_feed.setAnswer(10**8, sender=self.governor)

    # ---- operations
    def supply(self, who):
        amount = self.rng.randint(1, 5 * ETH)
        self.attempt("supply", lambda: self.vault.supplyCollateral(self.weth, amount, who, sender=who))

    def borrow(self, who):
        limit = self.vault.accountSnapshot(who).borrowLimit // 10**12  # WAD USD to USDC at $1
        amount = max(limit * self.rng.randint(1, 100) // 100, MIN_DEBT)
        self.attempt("borrow", lambda: self.vault.borrow(amount, who, who, sender=who))

    def repay(self, who):
        share = self.rng.randint(1, 100)
        amount = 2**256 - 1 if share == 100 else max(self.vault.debtOf(who) * share // 100, 1)
        self.attempt("repay", lambda: self.vault.repay(amount, who, sender=who))

    def withdraw(self, who):
        amount = max(self.vault.collateralOf(who, self.weth) * self.rng.randint(1, 100) // 100, 1)
        self.attempt("withdraw", lambda: self.vault.withdrawCollateral(self.weth, amount, who, who, sender=who))

    def move_price(self, _):
        self.price = max(300, min(3_000, self.price + self.rng.randint(-500, 200)))
        self.refresh_feeds()

    def wait(self, _):
        self.chain.pending_timestamp = self.chain.blocks.head.timestamp + self.rng.randint(1, 1_500)
        self.chain.mine()
        self.refresh_feeds()

    def kick(self, who):
        self.attempt("kick", lambda: self.vault.liquidate(who, sender=self.keeper))

    def take(self, _):
        ids = self.liquidator.activeAuctions()
        if not ids:
            return
        auction_id = self.rng.choice(ids)
        amount = max(self.liquidator.auctions(auction_id).lot * self.rng.randint(1, 100) // 100, 1)
        self.attempt(
            "take", lambda: self.liquidator.take(auction_id, amount, 2**256 - 1, self.keeper, b"", sender=self.keeper)
        )

    def redo(self, _):
        ids = self.liquidator.activeAuctions()
        if ids:
            self.attempt("redo", lambda: self.liquidator.redo(self.rng.choice(ids), sender=self.keeper))

    OPERATIONS = {
        "move_price": 4, "wait": 3, "kick": 4, "take": 4, "redo": 1,
        "borrow": 1, "repay": 1, "supply": 1, "withdraw": 1,
    }  # fmt: skip

    def step(self):
        name = self.rng.choices(list(self.OPERATIONS), weights=list(self.OPERATIONS.values()))[0]
        getattr(self, name)(self.rng.choice(self.borrowers))
        return name

    # ---- invariants
    def check(self):
        vault, liquidator, weth = self.vault, self.liquidator, self.weth
        auctions = [liquidator.auctions(i) for i in liquidator.activeAuctions()]
        # Collateral is conserved: every wei is in an account or in a live auction.
        assert (
            sum(vault.collateralOf(w, weth) for w in self.borrowers)
            == vault.totalCollateral(weth)
            == weth.balanceOf(vault)
        )
        assert sum(a.lot for a in auctions) == weth.balanceOf(liquidator)
        # Debt is accounted: accounts sum to the total, auctions to the auction debt and live tab.
        assert sum(vault.scaledDebtOf(w) for w in self.borrowers) == vault.totalScaledDebt()
        assert sum(a.debt for a in auctions) == vault.auctionDebt()
        assert sum(a.tab for a in auctions) == liquidator.liveTab(weth)
        assert all(a.debt <= a.tab and a.lot > 0 and a.tab > 0 for a in auctions)
        # No account carries dust debt.
        for who in self.borrowers:
            debt = vault.debtOf(who)
            assert debt == 0 or debt >= MIN_DEBT, f"{who} carries dust debt {debt}"
        # Lenders' assets add up, and the index never falls.
        vault.accrueInterest(sender=self.keeper)  # so the stored reserves are current
        assets = self.usdc.balanceOf(vault) + vault.totalDebt() + vault.auctionDebt() - vault.reserves()
        assert vault.totalAssets() == assets
        assert vault.borrowIndex() >= WAD


@pytest.mark.parametrize("seed", [1, 3, 4])
def test_invariants_hold_on_a_random_walk(
    seed, chain, vault, liquidator, usdc, weth, eth_feed, usdc_feed, accounts, governor, keeper
):
    borrowers = [accounts[3], accounts[6], accounts[7]]
    charge_interest(vault, governor)
    for who in borrowers:
        weth.mint(who, 100 * ETH, sender=governor)
        weth.approve(vault, 2**256 - 1, sender=who)
        usdc.mint(who, 100_000 * USDC, sender=governor)
        usdc.approve(vault, 2**256 - 1, sender=who)
        vault.supplyCollateral(weth, 10 * ETH, who, sender=who)
        vault.borrow(20_000 * USDC * (60 + 5 * borrowers.index(who)) // 100, who, who, sender=who)
    walk = Walk(seed, chain, vault, liquidator, usdc, weth, eth_feed, usdc_feed, borrowers, keeper, governor)
    for number in range(STEPS):
        operation = walk.step()
        try:
            walk.check()
        except AssertionError as err:
            raise AssertionError(f"seed {seed}, step {number} ({operation}): {err}") from err
    assert walk.done["kick"] > 0 and walk.done["take"] > 0, (walk.done, walk.refused)
