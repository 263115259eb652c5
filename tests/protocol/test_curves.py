"""Auction curves: formulas, rounding direction, and construction bounds."""

import pytest

from helpers import WAD, constructor_revert, error_data
from money import linear_price, wmul_up, wpow_up

TOP = 1_870 * WAD


@pytest.mark.parametrize("elapsed", [0, 1, 1_799, 1_800, 3_599, 3_600, 10**9])
def test_linear(linear_curve, elapsed):
    assert linear_curve.price(TOP, elapsed) == linear_price(TOP, elapsed, 3600)


def test_linear_rounds_up(linear_curve):
    assert linear_curve.price(10, 1) == 10  # 10 * 3599 / 3600 = 9.997 -> 10


@pytest.mark.parametrize("elapsed", [0, 59, 60, 61, 3_600, 86_400])
def test_exponential_steps(exp_curve, elapsed):
    assert exp_curve.price(TOP, elapsed) == wmul_up(TOP, wpow_up(99 * WAD // 100, elapsed // 60))


def test_exponential_is_monotone(exp_curve):
    prices = [exp_curve.price(TOP, t) for t in range(0, 7200, 60)]
    assert all(a > b for a, b in zip(prices, prices[1:], strict=False))


@pytest.mark.parametrize(
    "curve, args, bad",
    [
        ("LinearDecrease", (59,), 59),
        ("LinearDecrease", (30 * 86400 + 1,), 30 * 86400 + 1),
        ("StairstepExponentialDecrease", (0, 99 * WAD // 100), 0),
        ("StairstepExponentialDecrease", (86401, 99 * WAD // 100), 86401),
        ("StairstepExponentialDecrease", (60, WAD), WAD),
        ("StairstepExponentialDecrease", (60, WAD // 2 - 1), WAD // 2 - 1),
    ],
)
def test_curve_bounds(project, chain, governor, curve, args, bad):
    container = getattr(project, curve)
    assert constructor_revert(chain, container, governor, *args) == error_data(container, "InvalidCurveParameter", bad)
