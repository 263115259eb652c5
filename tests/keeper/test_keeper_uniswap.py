"""Pair addresses computed without asking the factory, checked against mainnet's real pair and
against the real factory deployed from npm."""

import pytest

from bots.keeper.uniswap import pair_for, sort_tokens

MAINNET_FACTORY = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"


@pytest.mark.unit
def test_mainnet_usdc_weth_pair():
    assert pair_for(MAINNET_FACTORY, WETH, USDC) == pair_for(MAINNET_FACTORY, USDC, WETH)
    assert pair_for(MAINNET_FACTORY, USDC, WETH) == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


@pytest.mark.unit
def test_a_pair_needs_two_tokens():
    assert sort_tokens(WETH, USDC) == (USDC, WETH)
    with pytest.raises(ValueError, match="two different tokens"):
        pair_for(MAINNET_FACTORY, USDC, USDC.lower())


def test_matches_the_factory_deployed_from_npm(uniswap, usdc, weth):
    assert pair_for(uniswap["factory"].address, weth.address, usdc.address) == uniswap["factory"].getPair(weth, usdc)
