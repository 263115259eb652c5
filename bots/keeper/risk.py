"""Health of every mirrored account in one vectorised pass, and which accounts a price move makes
unhealthy without rescanning everyone.

This is a float64 screen over the indexer's mirror: precise to about 1e-15, which is plenty to
pick candidates. Nothing is sent on its word alone: each candidate is confirmed with an eth_call
of `liquidate` first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WAD = 10**18
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RiskBook:
    """Accounts (rows) by collateral assets (columns), amounts in raw token units."""

    accounts: tuple[str, ...]
    collateral: Floats  # (n, m) [collateral decimals]
    debt: Floats  # (n,) [debt decimals]
    scales: Floats  # (m,) 10 ** collateral decimals
    thresholds: Floats  # (m,) liquidation thresholds as fractions (0.8, not 0.8e18)
    debt_scale: float

    @classmethod
    def build(
        cls,
        positions: dict[str, tuple[list[int], int]],
        decimals: list[int],
        thresholds_wad: list[int],
        debt_decimals: int,
    ) -> RiskBook:
        """From {account: ([collateral per asset], debt)} in raw units."""
        accounts = tuple(sorted(positions))
        m = len(decimals)
        collateral = np.zeros((len(accounts), m))
        debt = np.zeros(len(accounts))
        for row, account in enumerate(accounts):
            amounts, account_debt = positions[account]
            if len(amounts) != m:
                raise ValueError(f"{account} has {len(amounts)} collateral amounts, expected {m}")
            collateral[row] = amounts
            debt[row] = account_debt
        return cls(
            accounts,
            collateral,
            debt,
            np.array([10.0**d for d in decimals]),
            np.array([t / WAD for t in thresholds_wad]),
            10.0**debt_decimals,
        )

    def _values(self, prices: Floats) -> Floats:
        """(n, m) collateral values [USD]. An asset without a usable price comes in as +inf;
        where it is not held its value is 0 (not 0 * inf = nan, which would hide the account)."""
        with np.errstate(invalid="ignore"):
            values = self.collateral / self.scales * prices
        return np.where(self.collateral > 0, values, 0.0)

    def health_factors(self, prices: Floats, debt_price: float) -> Floats:
        """(n,) sum(value * threshold) / debt value; +inf without debt."""
        liquidation_value = self._values(prices) @ self.thresholds
        debt_value = self.debt / self.debt_scale * debt_price
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(debt_value > 0, liquidation_value / debt_value, np.inf)

    def shortfalls(self, prices: Floats, debt_price: float) -> Floats:
        """(n,) [USD] debt value beyond the liquidation value: the value at risk if the account is
        left alone (negative for a healthy account)."""
        return self.debt / self.debt_scale * debt_price - self._values(prices) @ self.thresholds

    def candidates(self, prices: Floats, debt_price: float, tolerance: float = 1e-9) -> list[str]:
        """Accounts whose health factor is below 1 (within `tolerance`, so rounding never hides
        one), largest value at risk (shortfall) first: in a crash those are kicked first."""
        hf = self.health_factors(prices, debt_price)
        rows = np.flatnonzero(hf < 1.0 + tolerance)
        at_risk = self.shortfalls(prices, debt_price)[rows]
        return [self.accounts[i] for i in rows[np.argsort(-at_risk, kind="stable")]]

    def liquidation_prices(self, asset: int, prices: Floats, debt_price: float) -> Floats:
        """(n,) the price of `asset` [USD] at which each account's health factor reaches 1, other
        prices unchanged; 0 where no price of this asset alone would do it (or none is held)."""
        values = self._values(prices)
        others = values @ self.thresholds - values[:, asset] * self.thresholds[asset]
        debt_value = self.debt / self.debt_scale * debt_price
        weight = self.collateral[:, asset] / self.scales[asset] * self.thresholds[asset]
        with np.errstate(divide="ignore", invalid="ignore"):
            price = (debt_value - others) / weight
        return np.where((weight > 0) & (debt_value > others), price, 0.0)


@dataclass(frozen=True)
class LiquidationIndex:
    """Accounts ordered by their liquidation price in one asset, so that a fall in that asset's
    price finds exactly the accounts it pushes under with two binary searches."""

    asset: int
    order: npt.NDArray[np.int64]  # account rows sorted by liquidation price
    sorted_prices: Floats

    @classmethod
    def build(cls, book: RiskBook, asset: int, prices: Floats, debt_price: float) -> LiquidationIndex:
        liquidation = book.liquidation_prices(asset, prices, debt_price)
        order = np.argsort(liquidation, kind="stable")
        return cls(asset, order, liquidation[order])

    def crossed(self, old_price: float, new_price: float) -> npt.NDArray[np.int64]:
        """Rows made unhealthy by the price moving from `old_price` down to `new_price`: those
        with new_price < liquidation price <= old_price. Empty for a rise."""
        if new_price >= old_price:
            return np.empty(0, dtype=np.int64)
        low = np.searchsorted(self.sorted_prices, new_price, side="right")
        high = np.searchsorted(self.sorted_prices, old_price, side="right")
        return self.order[low:high]
