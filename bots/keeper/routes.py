"""Where a take sells its collateral, and what that sale returns. Pure: the keeper reads the
reserves or the quotes; these turn them into an `amount_out` the take plan can search.

  RouteSpec  a Uniswap V2 path (one pair per hop) or a V3 path (token, fee, token, ...), from
             the collateral to the debt asset, as the settings give it.
  V2Path     the pairs' reserves along a V2 path: exact, to the wei, like Router02.
  Quotes     a V3 path's output measured by QuoterV2 at a few sizes, joined by straight lines:
             below the true (concave) curve between the sizes, and flat beyond the largest, so a
             plan never expects more than the pools give."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from bots.keeper.strategy import Pool

V2, V3 = "uniswap-v2", "uniswap-v3"


@dataclass(frozen=True)
class RouteSpec:
    kind: str  # V2 | V3
    tokens: tuple[str, ...]  # checksummed; the collateral first, the debt asset last
    fees: tuple[int, ...] = ()  # V3 only: one per hop [hundredths of a basis point]

    def __post_init__(self) -> None:
        if self.kind not in (V2, V3):
            raise ValueError(f"unknown route kind {self.kind!r}")
        if len(self.tokens) < 2:
            raise ValueError("a route needs at least two tokens")
        if self.kind == V3 and len(self.fees) != len(self.tokens) - 1:
            raise ValueError("a V3 route needs one fee per hop")

    def v3_path(self) -> bytes:
        """Uniswap V3's packed path: token (20 bytes), fee (3 bytes), token, ..."""
        out = bytes.fromhex(self.tokens[0][2:])
        for fee, token in zip(self.fees, self.tokens[1:], strict=True):
            out += fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
        return out

    def pairs(self) -> list[tuple[str, str]]:
        """(token in, token out) for each hop."""
        return list(zip(self.tokens, self.tokens[1:], strict=False))


@dataclass(frozen=True)
class V2Path:
    """The pairs along a V2 path, each seen from the seller of the hop's input token."""

    pools: tuple[Pool, ...]

    def amount_out(self, amount_in: int) -> int:
        for pool in self.pools:
            amount_in = pool.amount_out(amount_in)
        return amount_in

    def after_sale(self, amount_in: int) -> V2Path:
        """Every pair along the path once `amount_in` has been sold through it."""
        pools = []
        for pool in self.pools:
            pools.append(pool.after_sale(amount_in))
            amount_in = pool.amount_out(amount_in)
        return V2Path(tuple(pools))


@dataclass(frozen=True)
class Quotes:
    """[raw units] a path's output at ascending input `sizes`."""

    sizes: tuple[int, ...]
    outs: tuple[int, ...]

    def amount_out(self, amount_in: int) -> int:
        if amount_in <= 0 or not self.sizes:
            return 0
        i = bisect_right(self.sizes, amount_in)
        if i == len(self.sizes):
            return self.outs[-1]  # never more than the largest size measured
        x0, y0 = (self.sizes[i - 1], self.outs[i - 1]) if i else (0, 0)
        x1, y1 = self.sizes[i], self.outs[i]
        return y0 + (y1 - y0) * (amount_in - x0) // (x1 - x0)


def quote_sizes(lot: int, points: int = 16) -> list[int]:
    """Where to ask QuoterV2: evenly over the lot (one batch of `points` calls)."""
    return sorted({max(1, lot * k // points) for k in range(1, points + 1)})
