"""The crash bench's own arithmetic (scripts/_crash_paths.py and the verdict in scripts/_crash.py):
its paths, the ideal liquidator's bound, and targets that cannot read "met" when Gavel is worse."""

from __future__ import annotations

import pytest

from scripts._crash import Outcome, checks
from scripts._crash_paths import ETH, PATHS, USDC, CpPool, Position, PricePath, ideal

pytestmark = pytest.mark.unit

LLTV = 0.8


def test_a_path_runs_straight_between_its_points_and_flat_after():
    path = PricePath("v", ((0, 1.0), (10, 0.5), (20, 1.0)), gas=((5, 8, 20),), depth=((0, 1.0), (10, 0.2)))
    assert [path.price(m) for m in (0, 5, 10, 15, 20, 99)] == [2_000, 1_500, 1_000, 1_500, 2_000, 2_000]
    assert [path.gas_multiple(m) for m in (4, 5, 8, 9)] == [1, 20, 20, 1]
    assert path.depth_at(5) == pytest.approx(0.6)
    assert path.depth_at(50) == pytest.approx(0.2)
    assert path.minutes == 20
    assert path.steepest == pytest.approx(3.0)  # 50% in ten minutes: 300% an hour


def test_slow_paths_are_those_no_steeper_than_forty_percent_an_hour():
    slow = {p.name for p in PATHS if p.slow}
    assert "20% over an hour" in slow and "40% over an hour" in slow
    assert "two legs over 3.5 hours, gas x20 in them" in slow
    assert "50% in ten minutes" not in slow
    assert not any(p.slow for p in PATHS if "cascade" in p.name or "wick" in p.name)


def test_every_shape_the_issue_names_is_on_the_bench():
    names = " | ".join(p.name for p in PATHS)
    for shape in ("two legs", "cascade:", "depth", "wick", "gas x50", "cascade mode"):
        assert shape in names
    assert any(p.cascade for p in PATHS) and any(p.high_gas for p in PATHS)


def test_the_ideal_sells_an_account_the_minute_it_goes_under_into_the_pool():
    # 10 WETH owing 15,000: under its threshold (0.8) below 1,875, so at minute 3 of a fall of
    # 50 a minute (1,850); sold whole into a 2,000-WETH pool brought to 1,850 first.
    path = PricePath("fall", ((0, 1.0), (40, 0.0)))
    out = ideal(path, [Position(10 * ETH, 15_000 * USDC)], LLTV, 10)
    pool = CpPool(2_000.0, 4_000_000.0)
    pool.move_to(1_850.0, 1.0)
    proceeds = pool.sell(10.0)
    assert out.liquidated == 1 and out.bad_debt == 0
    assert out.borrower_loss == round((10 * 1_850 - proceeds) * USDC)


def test_the_ideal_leaves_bad_debt_when_the_pool_cannot_absorb_the_sale():
    big = [Position(1_000 * ETH, 1_500_000 * USDC)]
    path = PricePath("fall", ((0, 1.0), (10, 0.9)))
    deep = ideal(path, big, LLTV, 12)
    thin = ideal(path._replace(depth=((0, 0.2),)), big, LLTV, 12)
    assert deep.liquidated == thin.liquidated == 1
    assert thin.bad_debt > deep.bad_debt > 0  # 1,000 WETH into 2,000 (or 400) WETH of depth


def test_in_cascade_mode_the_ideal_sells_later_and_its_sales_stay_in_the_pool():
    accounts = [Position(20 * ETH, 28_000 * USDC) for _ in range(30)]
    path = PricePath("c", ((0, 1.0), (10, 0.8)))
    plain = ideal(path, accounts, LLTV, 30)
    cascade = ideal(path._replace(lag=2), accounts, LLTV, 30)
    assert plain.liquidated == 30
    assert cascade.bad_debt > plain.bad_debt  # the same sales, each pushing the next one's price down


def _outcome(protocol: str, bad: int, loss: int, liquidated: int = 1) -> Outcome:
    o = Outcome(protocol, "p", liquidated={f"a{i}" for i in range(liquidated)})
    o.bad_debt, o.sold_value, o.debt_repaid = bad * USDC, (loss + 100) * USDC, 100 * USDC
    o.raised = o.sold_value * 99 // 100
    return o


def test_a_path_is_not_met_where_gavel_leaves_more_bad_debt_than_morpho():
    path = PricePath("fast", ((0, 1.0), (10, 0.5)))
    results = {what: ok for what, ok, _ in checks(path, _outcome("Gavel", 10, 5), _outcome("Morpho Blue", 0, 50))}
    assert results == {"bad debt at most Morpho's": False, "borrowers lose less": True, "recovery at least 95%": True}


def test_slow_capped_and_high_gas_paths_carry_their_own_targets():
    slow = {what: ok for what, ok, _ in checks(PATHS[1], _outcome("Gavel", 1, 5), _outcome("Morpho Blue", 2, 50))}
    assert slow["no bad debt (40% an hour or slower)"] is False
    gas = PATHS[3]
    found = {w: ok for w, ok, _ in checks(gas, _outcome("Gavel", 0, 5, 3), _outcome("Morpho Blue", 0, 50, 4))}
    assert found["as many liquidated as Morpho's bot"] is False
    assert found["bad debt under 20,000"] is True
