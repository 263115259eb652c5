"""Roles and parameters: the governor sets parameters inside hard bounds, each setter emits an
event, the guardian can only make things safer, and nobody else can do either."""

import ape
import pytest

from helpers import WAD, collateral_params, constructor_revert, error_data, reverts_named

USDC = 10**6


def bounds(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def test_every_vault_setter_emits(vault, liquidator, governor, weth):
    tx = vault.setCollateralParams(weth, collateral_params(max_ltv=60), sender=governor)
    event = tx.events.filter(vault.CollateralConfigSet)[0]
    assert event.collateral == weth.address and event.params[0] == 60 * WAD // 100
    assert vault.collateralParams(weth).maxLtv == 60 * WAD // 100
    model = (WAD // 100, 2 * WAD // 100, WAD, 9 * WAD // 10)
    tx = vault.setRateModel(model, sender=governor)
    assert tuple(tx.events.filter(vault.RateModelSet)[0].model) == model and tuple(vault.rateModel()) == model
    tx = vault.setReserveFactor(WAD // 5, sender=governor)
    assert tx.events.filter(vault.ReserveFactorSet)[0].reserveFactor == WAD // 5
    config = (50 * USDC, 500 * USDC, 9 * WAD // 10, WAD // 4, WAD)
    tx = vault.setLiquidationConfig(config, sender=governor)
    assert tuple(tx.events.filter(vault.LiquidationConfigSet)[0].config) == config
    assert tuple(vault.liquidationConfig()) == config
    assert vault.minDebt() == 50 * USDC


def test_every_liquidator_setter_emits(liquidator, governor, weth, exp_curve):
    tx = liquidator.setAuctionConfig(weth, (exp_curve, WAD, 600, WAD // 10), sender=governor)
    # Decoded with the liquidator's own ABI: `tx.events` goes by Ape's cache of what is at each
    # address, which an earlier test's (reverted) deployment at the same address can leave stale.
    event = tx.events.filter(liquidator.AuctionConfigSet)[0]
    assert (event.collateral, event.curve, event.buf, event.tail, event.cusp) == (
        weth.address,
        exp_curve.address,
        WAD,
        600,
        WAD // 10,
    )
    assert tuple(liquidator.auctionConfig(weth)) == (exp_curve.address, WAD, 600, WAD // 10)
    tx = liquidator.setIncentive(0, WAD // 20, sender=governor)
    event = tx.events.filter(liquidator.IncentiveSet)[0]
    assert (event.tip, event.chip) == (0, WAD // 20)


@pytest.mark.parametrize(
    "params, name",
    [
        (collateral_params(threshold=96), "liquidationThreshold"),
        (collateral_params(threshold=4, max_ltv=1), "liquidationThreshold"),
        (collateral_params(max_ltv=81), "maxLtv"),
        (collateral_params(penalty=26), "penalty"),
        (collateral_params(threshold=90, penalty=12), "penalty"),  # 0.9 * 1.12 > 1
        (collateral_params(lot_cap=0), "lotCap"),
        (collateral_params(lot_cap=100, live_cap=99), "liveTabCap"),
    ],
)
def test_collateral_params_bounds(vault, governor, weth, params, name):
    before = vault.collateralParams(weth)
    with ape.reverts(vault.OutOfBounds, parameter=bounds(name)):
        vault.setCollateralParams(weth, params, sender=governor)
    assert vault.collateralParams(weth) == before


def test_collateral_listing_rules(project, vault, oracle, governor, usdc, usdc_feed):
    with ape.reverts(vault.InvalidCollateral, collateral=usdc.address):
        vault.setCollateralParams(usdc, collateral_params(), sender=governor)
    with ape.reverts(vault.InvalidCollateral):
        vault.setCollateralParams(ape.utils.ZERO_ADDRESS, collateral_params(), sender=governor)
    # Not a token (no decimals()), though the oracle prices it: named, not a bare revert.
    for not_a_token in (governor.address, oracle.address):
        oracle.setSources(not_a_token, [usdc_feed], [86400], 1, WAD // 50, sender=governor)
        with ape.reverts(vault.InvalidCollateral, collateral=not_a_token):
            vault.setCollateralParams(not_a_token, collateral_params(), sender=governor)
    unpriced = project.MockERC20.deploy("Unpriced", "UNP", 18, sender=governor)
    with ape.reverts(oracle.AssetNotConfigured, asset=unpriced.address):
        vault.setCollateralParams(unpriced, collateral_params(), sender=governor)
    # Ten assets at most (two are listed already).
    for i in range(8):
        token = project.MockERC20.deploy(f"T{i}", f"T{i}", 18, sender=governor)
        oracle.setSources(token, [usdc_feed], [86400], 1, WAD // 50, sender=governor)
        vault.setCollateralParams(token, collateral_params(), sender=governor)
    assert len(vault.collateralTokens()) == 10
    eleventh = project.MockERC20.deploy("T10", "T10", 18, sender=governor)
    oracle.setSources(eleventh, [usdc_feed], [86400], 1, WAD // 50, sender=governor)
    with ape.reverts(vault.TooManyCollateralTokens, max=10):
        vault.setCollateralParams(eleventh, collateral_params(), sender=governor)


@pytest.mark.parametrize(
    "model, name",
    [
        ((10 * WAD + 1, 0, 0, WAD // 2), "baseRate"),
        ((0, 10 * WAD + 1, 0, WAD // 2), "slope1"),
        ((0, 0, 10 * WAD + 1, WAD // 2), "slope2"),
        ((0, 0, 0, WAD // 2 - 1), "kink"),
        ((0, 0, 0, WAD), "kink"),
    ],
)
def test_rate_model_bounds(vault, governor, model, name):
    with ape.reverts(vault.OutOfBounds, parameter=bounds(name)):
        vault.setRateModel(model, sender=governor)


def test_reserve_factor_bound(vault, governor):
    with ape.reverts(vault.OutOfBounds, parameter=bounds("reserveFactor"), value=WAD // 2 + 1, max=WAD // 2):
        vault.setReserveFactor(WAD // 2 + 1, sender=governor)


@pytest.mark.parametrize(
    "config, name",
    [
        ((0, 0, WAD, WAD, 0), "minDebt"),
        ((10**12 * USDC + 1, 10**13 * USDC, WAD, WAD, 0), "minDebt"),
        ((100 * USDC, 99 * USDC, WAD, WAD, 0), "smallDebt"),
        ((100 * USDC, 100 * USDC, WAD // 2 - 1, WAD, 0), "deepHealth"),
        ((100 * USDC, 100 * USDC, WAD + 1, WAD, 0), "deepHealth"),
        ((100 * USDC, 100 * USDC, WAD, WAD // 10 - 1, 0), "closeFactor"),
        ((100 * USDC, 100 * USDC, WAD, WAD + 1, 0), "closeFactor"),
        ((100 * USDC, 100 * USDC, WAD, WAD, WAD + 1), "penaltyFundShare"),
    ],
)
def test_liquidation_config_bounds(vault, governor, config, name):
    with ape.reverts(vault.OutOfBounds, parameter=bounds(name)):
        vault.setLiquidationConfig(config, sender=governor)


@pytest.mark.parametrize(
    "config, name",
    [
        ((WAD - 1, 3600, WAD // 2), "buf"),
        ((2 * WAD + 1, 3600, WAD // 2), "buf"),
        ((WAD, 299, WAD // 2), "tail"),
        ((WAD, 7 * 86400 + 1, WAD // 2), "tail"),
        ((WAD, 3600, WAD // 20 - 1), "cusp"),
        ((WAD, 3600, WAD), "cusp"),
    ],
)
def test_auction_config_bounds(liquidator, linear_curve, governor, weth, config, name):
    with ape.reverts(liquidator.OutOfBounds, parameter=bounds(name)):
        liquidator.setAuctionConfig(weth, (linear_curve, *config), sender=governor)


def test_auction_config_needs_a_curve(liquidator, governor, weth, usdc):
    with ape.reverts(liquidator.ZeroAddress):
        liquidator.setAuctionConfig(weth, (ape.utils.ZERO_ADDRESS, WAD, 3600, WAD // 2), sender=governor)
    # What is not a curve is named: a contract without `price`, an account without code.
    with ape.reverts(liquidator.InvalidCurve, curve=usdc.address):
        liquidator.setAuctionConfig(weth, (usdc, WAD, 3600, WAD // 2), sender=governor)
    with ape.reverts(liquidator.InvalidCurve, curve=governor.address):
        liquidator.setAuctionConfig(weth, (governor, WAD, 3600, WAD // 2), sender=governor)


@pytest.mark.parametrize("start", [0, WAD + 1, 2**256 - 1])
def test_auction_config_refuses_a_contract_that_answers_anything(project, liquidator, governor, weth, start):
    # Its fallback answers `price(WAD, 0)` with one word: a curve starts at its top, not above it, not at zero.
    impostor = project.AnswersAnything.deploy(start, sender=governor)
    with ape.reverts(liquidator.InvalidCurve, curve=impostor.address):
        liquidator.setAuctionConfig(weth, (impostor, WAD, 3600, WAD // 2), sender=governor)


def test_incentive_and_breaker_bounds(liquidator, governor):
    with ape.reverts(liquidator.OutOfBounds, parameter=bounds("tip"), max=1_000 * USDC):
        liquidator.setIncentive(1_000 * USDC + 1, 0, sender=governor)
    with ape.reverts(liquidator.OutOfBounds, parameter=bounds("chip")):
        liquidator.setIncentive(0, WAD // 20 + 1, sender=governor)
    with ape.reverts(liquidator.OutOfBounds, parameter=bounds("breaker"), value=4):
        liquidator.setBreaker(4, sender=governor)


def test_set_liquidator_once(vault, liquidator, governor):
    with ape.reverts(vault.LiquidatorAlreadySet, liquidator=liquidator.address):
        vault.setLiquidator(liquidator, sender=governor)


@pytest.mark.parametrize("who", ["guardian", "other"])
def test_strangers_and_guardian_cannot_set_parameters(request, vault, liquidator, weth, linear_curve, who):
    caller = request.getfixturevalue(who)
    calls = (
        lambda: vault.setCollateralParams(weth, collateral_params(), sender=caller),
        lambda: vault.setRateModel((0, 0, 0, WAD // 2), sender=caller),
        lambda: vault.setReserveFactor(0, sender=caller),
        lambda: vault.setLiquidationConfig((1, 1, WAD, WAD, 0), sender=caller),
        lambda: vault.setLiquidator(caller, sender=caller),
        lambda: vault.unpause(sender=caller),
        lambda: liquidator.setAuctionConfig(weth, (linear_curve, WAD, 3600, WAD // 2), sender=caller),
        lambda: liquidator.setIncentive(0, 0, sender=caller),
    )
    for call in calls:
        with reverts_named("AccessControlUnauthorizedAccount"):
            call()


def test_strangers_cannot_pause_or_raise_the_breaker(vault, liquidator, other):
    with ape.reverts(vault.NotGuardian, caller=other.address):
        vault.pause(sender=other)
    with ape.reverts(liquidator.NotGuardian, caller=other.address):
        liquidator.setBreaker(1, sender=other)


def test_guardian_only_makes_things_safer(vault, liquidator, guardian, governor):
    vault.pause(sender=guardian)
    liquidator.setBreaker(2, sender=guardian)
    with ape.reverts(liquidator.BreakerNotRaised, current=2, requested=2):
        liquidator.setBreaker(2, sender=guardian)
    liquidator.setBreaker(3, sender=guardian)
    liquidator.setBreaker(0, sender=governor)
    vault.unpause(sender=governor)
    assert liquidator.breaker() == 0 and not vault.paused()


def test_roles_are_administered_by_the_governor(vault, governor, guardian, other):
    role = vault.GUARDIAN_ROLE()
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.grantRole(role, other, sender=guardian)
    vault.grantRole(role, other, sender=governor)
    vault.pause(sender=other)
    vault.revokeRole(role, other, sender=governor)
    with ape.reverts(vault.NotGuardian):
        vault.pause(sender=other)


def test_constructors_refuse_zero_addresses(project, chain, governor, guardian, usdc, oracle, fund):
    zero = ape.utils.ZERO_ADDRESS
    kick = project.VaultLiquidation.deploy(usdc, oracle, fund, sender=governor)
    cases = [
        (project.OracleAdapter, (zero, guardian)),
        (project.OracleAdapter, (governor, zero)),
        (project.InsuranceFund, (zero, governor, guardian)),
        (project.Vault, (usdc, "x", "x", zero, fund, kick, governor, guardian)),
        (project.Vault, (usdc, "x", "x", oracle, zero, kick, governor, guardian)),
        (project.DutchAuctionLiquidator, (zero, governor, guardian)),
    ]
    for container, args in cases:
        assert constructor_revert(chain, container, governor, *args) == error_data(container, "ZeroAddress")
    # And with good arguments the same simulation deploys.
    assert constructor_revert(chain, project.InsuranceFund, governor, usdc, governor, guardian) is None


def test_the_vault_refuses_a_kick_module_built_for_another(project, chain, governor, guardian, usdc, oracle, fund):
    """The kick module runs in the Vault's storage but reads its own immutables: they must be the
    Vault's. One built for another oracle, or no contract at all, is refused at construction."""
    other_oracle = project.OracleAdapter.deploy(governor, guardian, sender=governor)
    wrong = project.VaultLiquidation.deploy(usdc, other_oracle, fund, sender=governor)
    for module in (wrong, governor):
        args = (usdc, "x", "x", oracle, fund, module, governor, guardian)
        assert constructor_revert(chain, project.Vault, governor, *args) == error_data(
            project.Vault, "KickModuleMismatch", getattr(module, "address", module)
        )


def test_the_kick_module_refuses_a_direct_call(project, governor, keeper, usdc, oracle, fund):
    module = project.VaultLiquidation.deploy(usdc, oracle, fund, sender=governor)
    with ape.reverts(module.DirectCall):
        module.liquidate(keeper, sender=keeper)
