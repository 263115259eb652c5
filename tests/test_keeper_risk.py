"""Keeper risk screen: vectorised health factors and the liquidation-price index. Pure."""

import numpy as np
import pytest

from bots.keeper.risk import LiquidationIndex, RiskBook

pytestmark = pytest.mark.unit

WAD = 10**18
ETH, BTC, USDC = 10**18, 10**8, 10**6
PRICES = np.array([2_000.0, 30_000.0])  # WETH, WBTC [USD]


def book(positions):
    return RiskBook.build(positions, [18, 8], [80 * WAD // 100, 75 * WAD // 100], 6)


def test_health_factors_by_hand():
    b = book({"a": ([2 * ETH, 10**7], 4_000 * USDC), "b": ([ETH, 0], 0), "c": ([ETH, 0], 1_700 * USDC)})
    hf = b.health_factors(PRICES, 1.0)
    assert hf[0] == pytest.approx((4_000 * 0.8 + 3_000 * 0.75) / 4_000, rel=1e-12)
    assert hf[1] == np.inf
    assert hf[2] == pytest.approx(1_600 / 1_700, rel=1e-12)
    assert b.candidates(PRICES, 1.0) == ["c"]
    assert b.candidates(np.array([1_000.0, 30_000.0]), 1.0) == ["c", "a"]  # shortfall 900, then 150


def test_candidates_come_largest_value_at_risk_first():
    # "small" is the less healthy (0.80 against 0.94) but has $40 at risk; "large" has $1,000.
    b = book({"small": ([ETH // 10, 0], 200 * USDC), "large": ([10 * ETH, 0], 17_000 * USDC)})
    assert b.accounts == ("large", "small")
    assert b.health_factors(PRICES, 1.0)[1] < b.health_factors(PRICES, 1.0)[0] < 1
    assert b.shortfalls(PRICES, 1.0) == pytest.approx([1_000.0, 40.0])
    assert b.candidates(PRICES, 1.0) == ["large", "small"]


def test_liquidation_price_puts_health_at_one():
    b = book(
        {"a": ([2 * ETH, 10**7], 4_000 * USDC), "rich": ([ETH, BTC], 1_000 * USDC), "none": ([0, BTC], 100 * USDC)}
    )
    liq = b.liquidation_prices(0, PRICES, 1.0)
    assert liq[0] == pytest.approx(1_093.75, rel=1e-12)  # the same figure the Vault computes
    assert liq[2] == 0.0 and liq[1] == 0.0  # no WETH held; BTC alone covers the debt
    at = PRICES.copy()
    at[0] = liq[0]
    assert b.health_factors(at, 1.0)[0] == pytest.approx(1.0, rel=1e-12)


def test_mismatched_positions_name_the_account():
    with pytest.raises(ValueError, match="'x' has 1 collateral amounts, expected 2|x has 1"):
        book({"x": ([ETH], 0)})


def test_index_finds_exactly_the_accounts_a_fall_pushes_under():
    rng = np.random.default_rng(7)
    positions = {
        f"0x{i:040x}": (
            [int(rng.uniform(0, 20)) * ETH, int(rng.uniform(0, 2) * BTC)],
            int(rng.uniform(0, 40_000)) * USDC,
        )
        for i in range(300)
    }
    b = book(positions)
    index = LiquidationIndex.build(b, 0, PRICES, 1.0)
    before = b.health_factors(PRICES, 1.0)
    for new_eth in (1_900.0, 1_500.0, 900.0):
        moved = PRICES.copy()
        moved[0] = new_eth
        after = b.health_factors(moved, 1.0)
        brute = set(np.flatnonzero((before >= 1.0) & (after < 1.0)))
        assert set(index.crossed(2_000.0, new_eth)) == brute
        assert brute  # each fall does push some accounts under
    assert len(index.crossed(2_000.0, 2_100.0)) == 0  # a rise pushes no one under


def test_an_unpriced_asset_hides_only_the_accounts_holding_it():
    b = book({"eth_only": ([ETH, 0], 1_700 * USDC), "holds_btc": ([ETH, BTC], 40_000 * USDC)})
    no_btc_price = np.array([2_000.0, np.inf])  # the keeper's value for a stale or disputed price
    hf = b.health_factors(no_btc_price, 1.0)
    assert hf[0] == pytest.approx(1_600 / 1_700) and hf[1] == np.inf
    assert b.candidates(no_btc_price, 1.0) == ["eth_only"]
