"""The keeper's risk book: every mirrored account's collateral and debt in numpy arrays, kept up to
date from the indexer's updates, and the screen that turns a price update into the accounts it
makes unhealthy without revisiting every account.

The screen keeps, per collateral asset, every account's liquidation price for that asset (the
price at which its health factor reaches 1, the other prices held where they were when the index
was built) in sorted order. When one asset's price falls, the accounts it may push under are a
binary search away; only they, and the accounts whose positions changed since the index was
built, are checked exactly. Rebuilding the indexes (a vectorised pass over every account) happens
after the tick's kicks are out, off the path from a block to its candidates.

Floats (float64) are precise to about 1e-15, plenty to pick candidates: nothing is sent on the
screen's word alone, every kick is simulated first. Units: prices [USD per whole token], amounts
in raw token units; "debt price" is USD per raw unit of *scaled* debt times the debt's scale
(the debt asset's USD price times the borrow index), so a scaled debt needs no per-account
multiplication when interest accrues."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

WAD = 10**18
Floats = npt.NDArray[np.float64]
Rows = npt.NDArray[np.int64]


class RiskBook:
    """Accounts (rows) by collateral assets (columns). Rows are never removed: an account that
    repays everything keeps a row of zeros (it is never a candidate)."""

    def __init__(self, assets: list[str], decimals: list[int], thresholds_wad: list[int], debt_decimals: int) -> None:
        self.assets = tuple(a.lower() for a in assets)
        self._column = {a: j for j, a in enumerate(self.assets)}
        self.scales = np.array([10.0**d for d in decimals])
        self.thresholds = np.array([t / WAD for t in thresholds_wad])  # fractions: 0.8, not 0.8e18
        self.debt_scale = 10.0**debt_decimals
        self.accounts: list[str] = []
        self.rows: dict[str, int] = {}
        self._collateral = np.zeros((1_024, len(self.assets)))
        self._debt = np.zeros(1_024)
        self.changed: set[int] = set()  # rows written since the screen last drained them

    @classmethod
    def build(
        cls,
        positions: dict[str, tuple[list[int], int]],
        decimals: list[int],
        thresholds_wad: list[int],
        debt_decimals: int,
        assets: list[str] | None = None,
    ) -> RiskBook:
        """From {account: ([collateral per asset], debt)} in raw units (accounts sorted)."""
        book = cls(assets or [f"asset{j}" for j in range(len(decimals))], decimals, thresholds_wad, debt_decimals)
        m = len(decimals)
        for account in sorted(positions):
            amounts, debt = positions[account]
            if len(amounts) != m:
                raise ValueError(f"{account} has {len(amounts)} collateral amounts, expected {m}")
            row = book._row(account)  # first: it may grow (replace) the arrays
            book._collateral[row] = amounts
            book._debt[row] = debt
        return book

    def holds_any(self, row: int) -> bool:
        """Whether the account in `row` holds any collateral at all."""
        return bool(self._collateral[row].any())

    # ------------------------------------------------------------------ keeping it current

    def _row(self, account: str) -> int:
        row = self.rows.get(account)
        if row is None:
            row = len(self.accounts)
            if row == len(self._debt):  # grow by doubling: amortised O(1) per new account
                self._collateral = np.concatenate([self._collateral, np.zeros_like(self._collateral)])
                self._debt = np.concatenate([self._debt, np.zeros_like(self._debt)])
            self.rows[account] = row
            self.accounts.append(account)
        self.changed.add(row)
        return row

    def knows(self, asset: str) -> bool:
        return asset.lower() in self._column

    def set_collateral(self, account: str, asset: str, amount: int) -> None:
        """`account` (lower-case) now holds `amount` [raw] of `asset`; KeyError for an asset this
        book has no column for (the caller rebuilds the book with the new asset list)."""
        column = self._column[asset.lower()]
        row = self._row(account)  # first: it may grow (replace) the arrays
        self._collateral[row, column] = amount

    def set_debt(self, account: str, scaled: int) -> None:
        """`account` (lower-case) now owes `scaled` [debt decimals at borrow index 1]."""
        row = self._row(account)  # first: it may grow (replace) the arrays
        self._debt[row] = scaled

    @property
    def collateral(self) -> Floats:
        """(n, m) [collateral decimals]"""
        return self._collateral[: len(self.accounts)]

    @property
    def debt(self) -> Floats:
        """(n,) [debt decimals] at the debt price's borrow index"""
        return self._debt[: len(self.accounts)]

    @property
    def nbytes(self) -> int:
        """Memory the arrays hold [bytes] (the account list and row map come on top)."""
        return int(self._collateral.nbytes + self._debt.nbytes)

    # ------------------------------------------------------------------ exact checks (vectorised)

    def _values(self, prices: Floats, rows: Rows | None = None) -> Floats:
        """(n, m) collateral values [USD]. An asset without a usable price comes in as +inf;
        where it is not held its value is 0 (not 0 * inf = nan, which would hide the account)."""
        collateral = self.collateral if rows is None else self.collateral[rows]
        with np.errstate(invalid="ignore"):
            values = collateral / self.scales * prices
        return np.where(collateral > 0, values, 0.0)

    def _debt_values(self, debt_price: float, rows: Rows | None = None) -> Floats:
        debt = self.debt if rows is None else self.debt[rows]
        return debt / self.debt_scale * debt_price

    def health_factors(self, prices: Floats, debt_price: float, rows: Rows | None = None) -> Floats:
        """sum(value * threshold) / debt value per row (every row, or `rows`); +inf without debt."""
        liquidation_value = self._values(prices, rows) @ self.thresholds
        debt_value = self._debt_values(debt_price, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(debt_value > 0, liquidation_value / debt_value, np.inf)

    def shortfalls(self, prices: Floats, debt_price: float, rows: Rows | None = None) -> Floats:
        """[USD] debt value beyond the liquidation value: the value at risk if the account is left
        alone (negative for a healthy account)."""
        at_risk: Floats = self._debt_values(debt_price, rows) - self._values(prices, rows) @ self.thresholds
        return at_risk

    def unhealthy(self, rows: Rows, prices: Floats, debt_price: float, tolerance: float = 1e-9) -> Rows:
        """Those of `rows` whose health factor is below 1 (within `tolerance`, so rounding never
        hides one), largest value at risk (shortfall) first: in a crash those are kicked first."""
        rows = np.unique(rows)
        under = rows[self.health_factors(prices, debt_price, rows) < 1.0 + tolerance]
        at_risk = self.shortfalls(prices, debt_price, under)
        return under[np.argsort(-at_risk, kind="stable")]

    def candidates(self, prices: Floats, debt_price: float, tolerance: float = 1e-9) -> list[str]:
        """Every unhealthy account by a full pass (the reference the screen is tested against)."""
        rows = self.unhealthy(np.arange(len(self.accounts)), prices, debt_price, tolerance)
        return [self.accounts[i] for i in rows]

    def liquidation_prices(self, asset: int, prices: Floats, debt_price: float) -> Floats:
        """(n,) the price of `asset` [USD] at which each account's health factor reaches 1, other
        prices unchanged: +inf where the account is under whatever that price (it holds none of
        the asset and the rest does not cover its debt), 0 where no price of it alone would
        make it so."""
        values = self._values(prices)
        values[:, asset] = 0.0  # the others' value, without inf - inf where this asset is unpriced
        others = values @ self.thresholds
        debt_value = self._debt_values(debt_price)
        weight = self.collateral[:, asset] / self.scales[asset] * self.thresholds[asset]
        with np.errstate(divide="ignore", invalid="ignore"):
            price = (debt_value - others) / weight
        under = debt_value > others
        out: Floats = np.where(under & (weight > 0), price, np.where(under, np.inf, 0.0))
        return out


@dataclass(frozen=True)
class LiquidationIndex:
    """Accounts ordered by their liquidation price in one asset, so that a fall in that asset's
    price finds the accounts it pushes under with a binary search."""

    asset: int
    order: Rows  # account rows sorted by liquidation price
    sorted_prices: Floats

    @classmethod
    def build(cls, book: RiskBook, asset: int, prices: Floats, debt_price: float) -> LiquidationIndex:
        liquidation = book.liquidation_prices(asset, prices, debt_price)
        order = np.argsort(liquidation, kind="stable")
        return cls(asset, order, liquidation[order])

    def at_or_above(self, price: float) -> Rows:
        """Rows whose liquidation price is at least `price`: every account that is under at this
        price (with the other prices as when the index was built)."""
        return self.order[np.searchsorted(self.sorted_prices, price, side="left") :]

    def between(self, low: float, high: float) -> Rows:
        """Rows with low <= liquidation price < high."""
        return self.order[
            np.searchsorted(self.sorted_prices, low, side="left") : np.searchsorted(
                self.sorted_prices, high, side="left"
            )
        ]

    def crossed(self, old_price: float, new_price: float) -> Rows:
        """Rows made unhealthy by the price moving from `old_price` down to `new_price`: those
        with new_price < liquidation price <= old_price. Empty for a rise."""
        if new_price >= old_price:
            return np.empty(0, dtype=np.int64)
        low = np.searchsorted(self.sorted_prices, new_price, side="right")
        high = np.searchsorted(self.sorted_prices, old_price, side="right")
        return self.order[low:high]


@dataclass
class ScreenResult:
    rows: Rows  # unhealthy rows, largest shortfall first
    checked: int  # rows checked exactly
    path: str  # "index" (binary search) | "rebuild" (the indexes could not answer: full pass)


class Screen:
    """Incremental candidate search over a RiskBook (see the module's docstring).

    The indexes are built at reference prices with the debt price raised by `headroom` (interest
    accrues every block; the debt asset's price moves a little), so they over-approximate who is
    under until the debt price passes that. A query is answered from one asset's index when at
    most that asset is below its reference price: health only rises with every other price, so an
    account under now is under at the reference prices with that asset at today's price, so its
    liquidation price for that asset is at least today's. Otherwise (two assets fell since the
    last build, or the debt price passed the headroom) the query rebuilds first."""

    def __init__(self, book: RiskBook, headroom: float = 1e-3) -> None:
        self.book, self.headroom = book, headroom
        self._indexes: list[LiquidationIndex] = []
        self._ref_prices: Floats | None = None
        self._ref_debt_price = 0.0  # with headroom
        self._dirty: set[int] = set()  # rows whose index entries are stale

    def _drain_changes(self) -> None:
        self._dirty |= self.book.changed
        self.book.changed = set()

    def rebuild(self, prices: Floats, debt_price: float) -> None:
        """Every asset's index at these prices: one vectorised pass over every account."""
        self.book.changed = set()
        self._dirty = set()
        inflated = debt_price * (1.0 + self.headroom)
        self._indexes = [LiquidationIndex.build(self.book, j, prices, inflated) for j in range(len(self.book.assets))]
        self._ref_prices, self._ref_debt_price = prices.copy(), inflated

    def stale(self, prices: Floats, debt_price: float) -> bool:
        """True when the indexes were built at other prices or rows changed since: worth a
        rebuild once the tick's urgent work is done."""
        self._drain_changes()
        return (
            self._ref_prices is None
            or bool(self._dirty)
            or not np.array_equal(prices, self._ref_prices)
            or debt_price * (1.0 + self.headroom) != self._ref_debt_price
        )

    def _answering_index(self, prices: Floats, debt_price: float) -> LiquidationIndex | None:
        if self._ref_prices is None or len(self._indexes) != len(prices) or debt_price > self._ref_debt_price:
            return None
        below = np.flatnonzero(prices < self._ref_prices)
        if len(below) > 1 or not self._indexes:
            return None
        return self._indexes[int(below[0]) if len(below) else 0]

    def candidates(self, prices: Floats, debt_price: float) -> ScreenResult:
        """Unhealthy rows, largest value at risk first."""
        self._drain_changes()
        index = self._answering_index(prices, debt_price)
        path = "index"
        if index is None:
            self.rebuild(prices, debt_price)
            index = self._answering_index(prices, debt_price)
            path = "rebuild"
        if index is None:  # no collateral assets at all
            return ScreenResult(np.empty(0, dtype=np.int64), 0, path)
        rows = index.at_or_above(float(prices[index.asset]))
        if self._dirty:
            rows = np.concatenate([rows, np.fromiter(self._dirty, dtype=np.int64)])
        return ScreenResult(self.book.unhealthy(rows, prices, debt_price), len(rows), path)

    def watch(self, prices: Floats, debt_price: float, falls: Floats) -> Rows:
        """Rows healthy now that asset j's price falling by `falls[j]` (a fraction; 0 for none)
        alone would put under: the accounts worth preparing a kick for. Rebuilds first if the
        indexes are not current."""
        if self.stale(prices, debt_price):
            self.rebuild(prices, debt_price)
        found: list[Rows] = []
        for j, fall in enumerate(falls):
            if fall <= 0 or not math.isfinite(float(prices[j])):
                continue
            stressed = prices.copy()
            stressed[j] = prices[j] * (1.0 - fall)
            near = self._indexes[j].between(float(stressed[j]), float(prices[j]))
            if len(near):
                found.append(near[self.book.health_factors(stressed, debt_price, near) < 1.0])
        if not found:
            return np.empty(0, dtype=np.int64)
        rows = np.unique(np.concatenate(found))
        healthy_now = rows[self.book.health_factors(prices, debt_price, rows) >= 1.0]
        return healthy_now


@dataclass
class Volatility:
    """Per-asset volatility of the oracle price from one round to the next, as an EWMA of squared
    log returns (RiskMetrics' lambda by default). Until it has seen a round it assumes `prior`."""

    decay: float = 0.94
    prior: float = 0.02  # [fraction per round]
    _variance: dict[str, float] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)

    def observe(self, asset: str, price: float) -> None:
        """A price read this tick; a change is a new round."""
        last = self._last.get(asset)
        self._last[asset] = price
        if last is None or price == last or not (math.isfinite(price) and price > 0 and last > 0):
            return
        r2 = math.log(price / last) ** 2
        variance = self._variance.get(asset, self.prior**2)
        self._variance[asset] = self.decay * variance + (1.0 - self.decay) * r2
        self.rounds[asset] = self.rounds.get(asset, 0) + 1

    def sigma(self, asset: str) -> float:
        """[fraction per round]"""
        return math.sqrt(self._variance.get(asset, self.prior**2))

    def fall(self, asset: str, sigmas: float, rounds: int) -> float:
        """The fraction a fall of `sigmas` standard deviations over `rounds` rounds takes off."""
        return 1.0 - math.exp(-sigmas * self.sigma(asset) * math.sqrt(rounds))
