"""The off-chain mirror of the contracts' bounds (scripts/_bounds.py): each bound equals the
contract's own public constant, the defaults are within them, and a bad value is named."""

from dataclasses import replace

import pytest

from helpers import WAD
from scripts._bounds import CONSTANTS, collateral_problems, config_problems, protocol_problems
from scripts._deployment import DeploymentError, ProtocolConfig, check_config


def test_every_bound_is_the_contracts_own_constant(vault, liquidator, oracle, linear_curve, exp_curve):
    contracts = {
        "Vault": vault, "DutchAuctionLiquidator": liquidator, "OracleAdapter": oracle,
        "LinearDecrease": linear_curve, "StairstepExponentialDecrease": exp_curve,
    }  # fmt: skip
    differ = {
        name: (value, int(getattr(contracts[owner], name)()))
        for name, (owner, value) in CONSTANTS.items()
        if int(getattr(contracts[owner], name)()) != value
    }
    assert differ == {}


@pytest.mark.unit
def test_the_defaults_are_within_the_bounds():
    assert config_problems(ProtocolConfig(), 10**6) == []


@pytest.mark.unit
def test_a_bad_protocol_value_is_named_with_its_bounds():
    config = replace(ProtocolConfig(), reserve_factor=6 * WAD // 10, curve="quadratic")
    assert protocol_problems(config) == [
        "reserve_factor = 0.6 is outside 0..0.5",
        "curve = 'quadratic' is neither 'linear' nor 'exponential'",
    ]


@pytest.mark.unit
def test_the_penalty_bound_follows_the_threshold():
    # At a threshold of 0.9 the collateral seized at health 1 covers at most 1/0.9 - 1 = 11.1% more.
    weth = replace(ProtocolConfig().collaterals[0], max_ltv=WAD // 2, liquidation_threshold=9 * WAD // 10,
                   penalty=12 * WAD // 100)  # fmt: skip
    assert collateral_problems(weth, "WETH {}".format, 10**6) == [
        "WETH penalty = 0.12 is outside 0.01..0.111111111111111111"
    ]


@pytest.mark.unit
def test_a_local_deployment_with_a_bad_collateral_is_refused_in_one_line():
    weth, wbtc = ProtocolConfig().collaterals
    config = replace(ProtocolConfig(), collaterals=(weth, replace(wbtc, liquidation_threshold=3 * WAD // 2)))
    with pytest.raises(DeploymentError, match=r"WBTC liquidation_threshold = 1\.5 is outside 0\.05\.\.0\.95") as err:
        check_config(config, 10**6)
    assert "\n" not in str(err.value)
