"""Keeper risk screen: vectorised health factors and the liquidation-price index. Pure."""

import numpy as np
import pytest

from bots.keeper.risk import LiquidationIndex, RiskBook, Screen, Volatility

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
    assert b.accounts == ["large", "small"]
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


# ---------------------------------------------------------------- the incremental screen


def random_book(rng, n):
    b = RiskBook(["weth", "wbtc"], [18, 8], [80 * WAD // 100, 75 * WAD // 100], 6)
    for i in range(n):
        b.set_collateral(f"a{i}", "weth", int(rng.uniform(0, 20)) * ETH)
        b.set_collateral(f"a{i}", "wbtc", int(rng.uniform(0, 2) * BTC) if i % 3 == 0 else 0)
        b.set_debt(f"a{i}", int(rng.uniform(0, 40_000)) * USDC)
    return b


def test_the_screen_finds_what_a_full_pass_finds_through_moves_and_updates():
    """Random walks of both prices, the debt price (interest) and positions: at every step the
    screen's candidates are exactly the full pass's, in the same order."""
    rng = np.random.default_rng(11)
    b = random_book(rng, 2_000)
    screen = Screen(b)
    prices, debt_price = PRICES.copy(), 1.0
    paths = []
    for step in range(60):
        move = rng.integers(0, 4)
        if move == 0:  # one asset moves, the common case: the index answers
            j = rng.integers(0, 2)
            prices[j] *= rng.uniform(0.93, 1.05)
        elif move == 1:  # both fall: the index must rebuild first
            prices *= rng.uniform(0.95, 0.99, size=2)
        elif move == 2:  # positions change (events)
            for _ in range(20):
                i = rng.integers(0, 2_100)  # some new accounts too
                b.set_debt(f"a{i}", int(rng.uniform(0, 40_000)) * USDC)
                b.set_collateral(f"a{i}", "weth", int(rng.uniform(0, 20)) * ETH)
        else:  # interest accrues
            debt_price *= 1.0002
        found = screen.candidates(prices, debt_price)
        assert [b.accounts[r] for r in found.rows] == b.candidates(prices, debt_price), f"step {step}"
        paths.append(found.path)
        if step % 7 == 6:  # a tick's end: the index is rebuilt at today's prices
            screen.rebuild(prices, debt_price)
    assert "index" in paths and "rebuild" in paths
    assert len(b.candidates(prices, debt_price)) > 0


def test_a_fall_in_one_asset_is_answered_from_its_index_checking_few_accounts():
    rng = np.random.default_rng(3)
    b = random_book(rng, 20_000)
    screen = Screen(b)
    screen.rebuild(PRICES, 1.0)
    fallen = np.array([1_800.0, 30_000.0])
    found = screen.candidates(fallen, 1.0)
    assert found.path == "index"
    assert [b.accounts[r] for r in found.rows] == b.candidates(fallen, 1.0)
    # Checked: the accounts under now, plus the few within the index's 0.1% headroom of it.
    assert len(found.rows) <= found.checked < len(found.rows) + len(b.accounts) // 100


def test_the_watch_list_is_who_the_stressed_price_puts_under():
    rng = np.random.default_rng(5)
    b = random_book(rng, 3_000)
    screen = Screen(b)
    falls = np.array([0.06, 0.0])  # ETH down 6%, BTC unmoved
    watched = set(screen.watch(PRICES, 1.0, falls))
    stressed = np.array([2_000.0 * 0.94, 30_000.0])
    now, then = b.health_factors(PRICES, 1.0), b.health_factors(stressed, 1.0)
    assert watched == set(np.flatnonzero((now >= 1.0) & (then < 1.0)))
    assert watched


def test_volatility_is_an_ewma_of_squared_log_returns():
    v = Volatility(decay=0.9, prior=0.01)
    assert v.sigma("eth") == 0.01
    v.observe("eth", 2_000.0)
    v.observe("eth", 2_000.0)  # no new round
    assert v.rounds.get("eth", 0) == 0
    v.observe("eth", 1_800.0)
    expected = (0.9 * 0.01**2 + 0.1 * np.log(0.9) ** 2) ** 0.5
    assert v.sigma("eth") == pytest.approx(expected, rel=1e-12)
    assert v.fall("eth", 3, 4) == pytest.approx(1 - np.exp(-3 * expected * 2), rel=1e-12)
    v.observe("eth", float("inf"))  # an unpriced read is not a round
    assert v.rounds["eth"] == 1
