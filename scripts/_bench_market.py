"""The keeper benchmark's market: Gavel on a fresh Anvil with `n` borrowers, 1% of whom one ETH
price update (2,000 -> 1,800) makes unhealthy. Deterministic: the same seed gives the same
accounts, amounts and blocks."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from scripts._bulk import Borrower, BulkChain, borrower_address, open_borrowers
from scripts._deployment import ProtocolConfig, deploy_local

ETH, BTC, USDC = 10**18, 10**8, 10**6
WAD = 10**18
# [USD per ETH] before (the default WETH feed's opening price) and after the update that makes 1% unhealthy
CRASH = (2_000, 1_800)
UNHEALTHY_SHARE = 100  # one borrower in this many goes under at the crash

# Caps far above what 100,000 borrowers and 1,000 simultaneous auctions need: the benchmark
# measures the keeper, not the caps (whose refusals the protocol's own tests cover).
CONFIG = ProtocolConfig(
    collaterals=tuple(replace(spec, lot_cap=10**9, live_tab_cap=10**12) for spec in ProtocolConfig().collaterals)
)


@dataclass
class Market:
    contracts: dict[str, Any]
    governor: Any
    start_block: int
    borrowers: list[str]

    def address(self, name: str) -> str:
        return str(self.contracts[name].address)


def deploy_market(project: Any, accounts: Any, chain: Any) -> Market:
    """Gavel with generous caps, 1,000,000,000 USDC of lenders' money and a funded insurance fund
    (automining: Ape waits for each receipt)."""
    governor, guardian, lender = accounts.test_accounts[:3]
    start = chain.blocks.head.number + 1
    c = deploy_local(project, governor, guardian, CONFIG)
    c["usdc"].mint(lender, 10**9 * USDC, sender=governor)
    c["usdc"].approve(c["vault"], 2**256 - 1, sender=lender)
    c["vault"].deposit(10**9 * USDC, lender, sender=lender)
    c["usdc"].mint(governor, 10**6 * USDC, sender=governor)
    c["usdc"].approve(c["insurance_fund"], 2**256 - 1, sender=governor)
    c["insurance_fund"].fund(10**6 * USDC, sender=governor)
    for token in ("weth", "wbtc"):
        c[token].mint(governor, 2**200, sender=governor)
        c[token].approve(c["vault"], 2**256 - 1, sender=governor)
    return Market(c, governor, start, [])


def borrowers_for(market: Market, first: int, count: int, seed: int) -> list[Borrower]:
    """Borrowers first..first+count-1: 1 to 20 WETH each (one in ten also holds 0.01-0.5 WBTC);
    one in UNHEALTHY_SHARE at 74% loan-to-value of its WETH (under at $1,800: 0.74 > 0.8 * 0.9), the
    rest at 20-65% (at $1,800 their health stays above 1.1)."""
    rng = random.Random(seed * 1_000_003 + first)
    weth, wbtc = market.address("weth"), market.address("wbtc")
    out = []
    for i in range(first, first + count):
        eth = rng.randint(1, 20) * ETH
        collateral = {weth: eth}
        if i % 10 == 3:
            collateral[wbtc] = rng.randint(1, 50) * BTC // 100
        ltv = 74 if i % UNHEALTHY_SHARE == UNHEALTHY_SHARE // 2 else rng.randint(20, 65)
        debt = eth * CRASH[0] * ltv // 100 // ETH * USDC
        out.append(Borrower(borrower_address(i), collateral, debt))
    return out


def grow(market: Market, chain: BulkChain, to: int, seed: int, progress: Any) -> None:
    """Open borrowers until the market has `to`."""
    have = len(market.borrowers)
    if to <= have:
        return
    new = borrowers_for(market, have, to - have, seed)
    open_borrowers(chain, market.address("vault"), market.governor.address, new, lambda done: progress(have + done))
    market.borrowers.extend(b.address for b in new)
