"""The crash bench's price paths and the ideal liquidator's bound on them: pure Python, no chain
(scripts/_crash.py runs the paths on one). Prices are USD per ETH; the world starts at $2,000."""

from __future__ import annotations

import math
from typing import NamedTuple

START_PRICE = 2_000  # [USD per ETH]
USDC, ETH, WAD = 10**6, 10**18, 10**18
SLOW = 0.40  # [share of the start price per hour] a path no steeper than this must leave no bad debt
Points = tuple[tuple[int, float], ...]


def _between(points: Points, minute: float) -> float:
    """The value at `minute` on a line through `points` ((minute, value), minutes rising), flat
    before the first and after the last."""
    if minute <= points[0][0]:
        return points[0][1]
    for (m0, v0), (m1, v1) in zip(points, points[1:], strict=False):
        if minute <= m1:
            return v0 + (v1 - v0) * (minute - m0) / (m1 - m0)
    return points[-1][1]


class PricePath(NamedTuple):
    """A crash: the outside market's price over time, the gas price, the pool's depth, and
    whether the oracle follows the outside market or (cascade mode) the pool itself."""

    name: str
    points: Points  # (minute, price as a share of $2,000): straight between, flat after the last
    gas: tuple[tuple[int, int, int], ...] = ()  # (from minute, to minute, multiple of the base fee); 1 elsewhere
    depth: Points = ((0, 1.0),)  # (minute, the pool's depth as a share of its first): its LPs leaving
    lag: int = 0  # cascade mode when > 0: the oracle reports the pool's price `lag` minutes ago
    bad_debt_cap: int | None = None  # [USDC] the target for this path, beyond "no more than Morpho's"

    @property
    def minutes(self) -> int:
        return self.points[-1][0]

    @property
    def cascade(self) -> bool:
        return self.lag > 0

    def price(self, minute: int) -> int:
        """[USD per ETH] the outside market's price at `minute`."""
        return round(START_PRICE * _between(self.points, minute))

    def gas_multiple(self, minute: int) -> int:
        return max((x for start, end, x in self.gas if start <= minute <= end), default=1)

    def depth_at(self, minute: int) -> float:
        return _between(self.depth, minute)

    @property
    def steepest(self) -> float:
        """[share of the start price per hour] the steepest fall on the path."""
        falls = [(v0 - v1) * 60 / (m1 - m0) for (m0, v0), (m1, v1) in zip(self.points, self.points[1:], strict=False)]
        return max(falls, default=0.0)

    @property
    def slow(self) -> bool:
        """No steeper than 40% an hour: no bad debt is the target."""
        return self.steepest <= SLOW + 1e-9

    @property
    def high_gas(self) -> bool:
        return any(x >= 50 for _, _, x in self.gas)


PATHS = (
    PricePath("20% over an hour", ((0, 1.0), (60, 0.8))),
    PricePath("40% over an hour", ((0, 1.0), (60, 0.6))),
    PricePath("50% in ten minutes", ((0, 1.0), (10, 0.5)), bad_debt_cap=20_000),
    PricePath("50% in ten minutes, gas x50", ((0, 1.0), (10, 0.5)), gas=((0, 10_000, 50),), bad_debt_cap=20_000),
    PricePath(
        "two legs over 3.5 hours, gas x20 in them",
        ((0, 1.0), (90, 0.75), (120, 0.75), (210, 0.5)),
        gas=((20, 210, 20),),
    ),
    PricePath(
        "cascade: 25% in 3 min twice, 10 min apart, gas x20",
        ((0, 1.0), (3, 0.75), (13, 0.75), (16, 0.5)),
        gas=((0, 10_000, 20),),
    ),
    PricePath(
        "40% over an hour, the pool losing 85% of its depth",
        ((0, 1.0), (60, 0.6)),
        depth=((0, 1.0), (15, 1.0), (45, 0.15)),
    ),
    PricePath("wick: a third down in 3 min, back by 10", ((0, 1.0), (3, 2 / 3), (10, 1.0))),
    PricePath("cascade mode: 30% in 10 min, the oracle 2 min behind the pool", ((0, 1.0), (10, 0.7)), lag=2),
)


class Position(NamedTuple):
    collateral: int  # [WETH units]
    debt: int  # [USDC units]


class IdealOutcome(NamedTuple):
    bad_debt: int  # [USDC units]
    borrower_loss: int  # [USDC units] oracle value of what was sold less the debt it repaid
    liquidated: int


class CpPool:
    """A Uniswap V2 pool in floats (0.3% fee): reserves in whole WETH and USDC."""

    def __init__(self, weth: float, usdc: float) -> None:
        self.weth, self.usdc = weth, usdc

    @property
    def price(self) -> float:
        return self.usdc / self.weth

    def sell(self, weth: float) -> float:
        """Sell `weth`, return the USDC it fetches."""
        out = self.usdc * weth * 0.997 / (self.weth + weth * 0.997)
        self.weth, self.usdc = self.weth + weth, self.usdc - out
        return out

    def move_to(self, price: float, depth: float) -> None:
        """Arbitrage to `price` at `depth` (sqrt(k) against the first pool's)."""
        k_root = depth * math.sqrt(2_000 * 4_000_000)
        self.weth, self.usdc = k_root / math.sqrt(price), k_root * math.sqrt(price)


def ideal(path: PricePath, positions: list[Position], lltv: float, ticks: int) -> IdealOutcome:
    """The bad debt an ideal liquidator leaves on the path: every account sold whole the minute
    the oracle puts it under its liquidation threshold, into the same pool (2,000 WETH deep at the
    start, its depth following the path), largest debt first, each sale moving the pool. Outside
    cascade mode arbitrage brings the pool back to the path every minute; in it the pool keeps
    every sale's impact and the oracle reports its price `lag` minutes late. Interest over the
    path is left out (under 0.01% of any debt here)."""
    pool = CpPool(2_000.0, 4_000_000.0)
    open_ = sorted(positions, key=lambda p: -p.debt)
    history: list[float] = []
    bad = loss = liquidated = 0
    for minute in range(ticks):
        if path.cascade:
            # The outside market's move carries the pool with it; earlier sales' impact stays.
            if minute > 0:
                pool.move_to(pool.price * path.price(minute) / path.price(minute - 1), path.depth_at(minute))
            oracle = history[-path.lag] if len(history) >= path.lag else float(START_PRICE)
        else:
            pool.move_to(float(path.price(minute)), path.depth_at(minute))
            oracle = float(path.price(minute))
        still = []
        for p in open_:
            debt = p.debt / USDC
            if p.collateral / ETH * oracle * lltv >= debt:
                still.append(p)
                continue
            proceeds = pool.sell(p.collateral / ETH)
            liquidated += 1
            bad += max(0.0, debt - proceeds)
            loss += p.collateral / ETH * oracle - proceeds  # the surplus over the debt goes back to the borrower
        open_ = still
        history.append(pool.price)
    return IdealOutcome(round(bad * USDC), round(max(0.0, loss) * USDC), liquidated)
