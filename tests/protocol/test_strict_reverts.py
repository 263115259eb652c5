"""The suite's `ape.reverts(Contract.Error, **inputs)` checks the error's name and inputs even when
Ape did not decode the revert (`strict_reverts` in tests/helpers.py, installed by tests/conftest.py):
without it, three oracle tests passed for any revert at all. Each case here would pass under Ape's
own check."""

import ape
import pytest

STALE = 1  # IOracleAdapter.Status.Stale


@pytest.fixture
def stale_weth(oracle, eth_feed, weth, governor, chain):
    eth_feed.setAnswerAt(2_000 * 10**8, chain.pending_timestamp - 3_601, sender=governor)
    assert oracle.status(weth) == STALE


def test_the_right_error_and_inputs_pass(oracle, weth, stale_weth):
    with ape.reverts(oracle.PriceUnavailable, asset=weth.address, status=STALE):
        oracle.price(weth)


def test_another_input_value_fails(oracle, weth, usdc, stale_weth):
    with (
        pytest.raises(AssertionError, match="expected asset="),
        ape.reverts(oracle.PriceUnavailable, asset=usdc.address),
    ):
        oracle.price(weth)


def test_an_input_the_error_lacks_fails(oracle, weth, stale_weth):
    with (
        pytest.raises(AssertionError, match="has no input 'token'"),
        ape.reverts(oracle.PriceUnavailable, token=weth.address),
    ):
        oracle.price(weth)


def test_another_error_fails(oracle, weth, stale_weth):
    expected = pytest.raises(AssertionError, match="expected AssetNotConfigured, got PriceUnavailable")
    with expected, ape.reverts(oracle.AssetNotConfigured):
        oracle.price(weth)
