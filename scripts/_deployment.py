"""Deploying and configuring Gavel; shared by `ape run deploy`, `ape run gas` and the demo.

Units follow docs/design.md's units table: ratios and prices in WAD (1e18 = 1.0), token amounts in each
token's own decimals. Files starting with `_` are not `ape run` commands; import this one as
`scripts._deployment`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ethpm_types import ContractType

from scripts._bounds import config_problems

WAD = 10**18
ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"


class DeploymentError(Exception):
    """A deployment cannot go ahead; the message says why and what to do."""


def check_config(config: ProtocolConfig, debt_scale: int) -> None:
    """DeploymentError naming every parameter of `config` the contracts would refuse: raised
    before the first transaction, not by a revert after a dozen of them."""
    problems = config_problems(config, debt_scale)
    if problems:
        raise DeploymentError(f"outside the contracts' bounds: {'; '.join(problems)}")


@dataclass(frozen=True)
class CollateralSpec:
    """One collateral asset: its risk parameters and its auction."""

    symbol: str
    decimals: int
    usd_price: int  # whole dollars, for local feeds
    max_ltv: int = 75 * WAD // 100
    liquidation_threshold: int = 80 * WAD // 100
    # The penalty is the lenders' and the fund's income, not the keeper's pay (the auction's discount
    # pays the keeper), so it can be small: borrowers lose less than to a fixed liquidation bonus.
    # A lot sold at its floor (3.5% under the oracle) costs its borrower 5.5% in all, under the 6%
    # of a fixed discount at the same threshold (Morpho Blue's at LLTV 80%): measured in
    # `make bench-crash`, 3% lost more than Morpho's borrowers in the crashes that sell at the floor.
    penalty: int = 2 * WAD // 100
    supply_cap: int = 10**12  # whole tokens, scaled by decimals when set
    lot_cap: int = 500_000  # whole debt tokens
    live_tab_cap: int = 2_000_000  # whole debt tokens
    # The curve runs from today's oracle price times buf (the liquidator's live top), so it starts at
    # the oracle's price (a start above it only waits: the pool sits at the oracle's price), and the
    # cusp bounds the discount below today's price: 3.5%, where the price holds (its floor). Measured in
    # `make bench-crash` (docs/benchmarks.md, "Crashes"): a start at 1.02, 1% a minute and a redo at 0.951 of the
    # top sold too little a minute to keep up with a 40% fall.
    buf: int = WAD
    tail: int = 2 * 3600
    cusp: int = 965 * WAD // 1000
    heartbeat: int = 3600


@dataclass(frozen=True)
class ProtocolConfig:
    """Protocol-wide parameters; docs/design.md's parameter table lists the same defaults."""

    base_rate: int = 0
    slope1: int = 4 * WAD // 100
    slope2: int = 75 * WAD // 100
    kink: int = 80 * WAD // 100
    reserve_factor: int = WAD // 10
    min_debt: int = 100  # whole debt tokens (dust)
    small_debt: int = 1_000  # whole debt tokens
    deep_health: int = 97 * WAD // 100  # found 3% under its threshold: a fast market, sold whole
    close_factor: int = WAD // 2
    penalty_fund_share: int = WAD // 2
    tip: int = 5  # whole debt tokens
    chip: int = WAD // 1000  # 0.1% of the tab
    max_deviation: int = 2 * WAD // 100
    curve: str = "exponential"  # or "linear"
    linear_tau: int = 3600
    step: int = 60
    cut: int = 997 * WAD // 1000  # 0.3% a minute from the live top: at the cusp after 12 minutes
    debt_heartbeat: int = 86400
    # The listed collateral whose price prices the chain's gas token: a kick is paid its gas at the
    # block's base fee (within its penalty). Empty: kicks are paid no gas.
    gas_asset: str = "WETH"
    collaterals: tuple[CollateralSpec, ...] = field(
        default_factory=lambda: (
            CollateralSpec("WETH", 18, 2_000),
            CollateralSpec(
                "WBTC",
                8,
                30_000,
                max_ltv=70 * WAD // 100,
                liquidation_threshold=75 * WAD // 100,
                penalty=4 * WAD // 100,
            ),
        )
    )


def npm_artifact(package: str, name: str) -> ContractType:
    """A contract type from the build artifacts a package publishes on npm (Uniswap V2's
    `build/<name>.json`, or V3's Hardhat `artifacts/contracts/**/<name>.json`)."""
    path = NODE_MODULES / package / "build" / f"{name}.json"
    if not path.is_file():
        path = next((NODE_MODULES / package / "artifacts").glob(f"contracts/**/{name}.sol/{name}.json"), path)
    if not path.is_file():
        raise DeploymentError(f"{path} is missing: run `make install` first")
    data = json.loads(path.read_text())
    bytecode = data["bytecode"] if isinstance(data["bytecode"], str) else data["evm"]["bytecode"]["object"]
    if not bytecode.startswith("0x"):
        bytecode = "0x" + bytecode
    return ContractType.model_validate(
        {"contractName": name, "abi": data["abi"], "deploymentBytecode": {"bytecode": bytecode}}
    )


def deploy_vault_and_module(
    project: Any, deployer: Any, debt_asset: Any, oracle: Any, fund: Any, governor: Any, guardian: Any
) -> tuple[Any, Any]:
    """The Vault, and first its kick module (VaultLiquidation: the Vault's own liquidation code,
    deployed beside it for want of room in its bytecode, built for the same token, oracle and
    fund). Returns (vault, module)."""
    kick = project.VaultLiquidation.deploy(debt_asset, oracle, fund, sender=deployer)
    symbol = debt_asset.symbol()
    vault = project.Vault.deploy(
        debt_asset, f"Gavel {symbol}", f"g{symbol}", oracle, fund, kick, governor, guardian, sender=deployer
    )
    return vault, kick


def deploy_vault(
    project: Any, deployer: Any, debt_asset: Any, oracle: Any, fund: Any, governor: Any, guardian: Any
) -> Any:
    """The Vault with its kick module (see deploy_vault_and_module)."""
    return deploy_vault_and_module(project, deployer, debt_asset, oracle, fund, governor, guardian)[0]


def deploy_protocol(
    project: Any, deployer: Any, governor: Any, guardian: Any, debt_asset: Any, config: ProtocolConfig
) -> dict[str, Any]:
    """Deploy the four core contracts and the curve, wire them together, and set protocol-wide
    parameters. `deployer` must be `governor` (the governor's role is needed to configure)."""
    if deployer.address != governor.address:
        raise DeploymentError("the deployer configures the protocol, so it must be the governor")
    scale = 10 ** debt_asset.decimals()
    oracle = project.OracleAdapter.deploy(governor, guardian, sender=deployer)
    fund = project.InsuranceFund.deploy(debt_asset, governor, guardian, sender=deployer)
    vault, kick_module = deploy_vault_and_module(project, deployer, debt_asset, oracle, fund, governor, guardian)
    liquidator = project.DutchAuctionLiquidator.deploy(vault, governor, guardian, sender=deployer)
    if config.curve == "linear":
        curve = project.LinearDecrease.deploy(config.linear_tau, sender=deployer)
    elif config.curve == "exponential":
        curve = project.StairstepExponentialDecrease.deploy(config.step, config.cut, sender=deployer)
    else:
        raise DeploymentError(f"curve must be 'linear' or 'exponential', not {config.curve!r}")

    vault.setLiquidator(liquidator, sender=deployer)
    fund.setLiquidator(liquidator, sender=deployer)  # sells the collateral the fund seizes
    fund.grantRole(fund.COVER_ROLE(), vault, sender=deployer)  # draws shortfall cover
    fund.grantRole(fund.PAYER_ROLE(), liquidator, sender=deployer)  # pays keeper incentives
    vault.setRateModel((config.base_rate, config.slope1, config.slope2, config.kink), sender=deployer)
    vault.setReserveFactor(config.reserve_factor, sender=deployer)
    vault.setLiquidationConfig(
        (
            config.min_debt * scale,
            config.small_debt * scale,
            config.deep_health,
            config.close_factor,
            config.penalty_fund_share,
        ),
        sender=deployer,
    )
    liquidator.setIncentive(config.tip * scale, config.chip, sender=deployer)
    return {
        "oracle": oracle,
        "insurance_fund": fund,
        "vault": vault,
        "vault_liquidation": kick_module,  # recorded so it can be verified and read beside the Vault
        "liquidator": liquidator,
        "curve": curve,
    }


def list_collateral(
    contracts: dict[str, Any],
    deployer: Any,
    asset: Any,
    feeds: list[Any],
    spec: CollateralSpec,
    config: ProtocolConfig,
    debt_scale: int,
    quorum: int = 1,
) -> None:
    """Price `asset` with `feeds` (the median of at least `quorum` fresh ones) and list it as
    collateral with its auction."""
    contracts["oracle"].setSources(
        asset, feeds, [spec.heartbeat] * len(feeds), quorum, config.max_deviation, sender=deployer
    )
    contracts["vault"].setCollateralParams(
        asset,
        (
            spec.max_ltv,
            spec.liquidation_threshold,
            spec.penalty,
            spec.supply_cap * 10**spec.decimals,
            spec.lot_cap * debt_scale,
            spec.live_tab_cap * debt_scale,
        ),
        sender=deployer,
    )
    contracts["liquidator"].setAuctionConfig(
        asset, (contracts["curve"], spec.buf, spec.tail, spec.cusp), sender=deployer
    )


def set_gas_asset(contracts: dict[str, Any], deployer: Any, config: ProtocolConfig) -> None:
    """Price kicks' gas by the listed collateral named `config.gas_asset` (WETH for ETH), if any."""
    token = contracts.get(config.gas_asset.lower()) if config.gas_asset else None
    if token is not None:
        contracts["liquidator"].setGasAsset(token, sender=deployer)


def deploy_local(project: Any, deployer: Any, guardian: Any, config: ProtocolConfig | None = None) -> dict[str, Any]:
    """Everything on a local chain: test tokens and settable feeds (the only mocks), the
    protocol, and a real Uniswap V2 (Factory, Router02, WETH9 from npm) for market depth."""
    from ape.contracts import ContractContainer

    config = config or ProtocolConfig()
    check_config(config, 10**6)  # the local USDC's decimals
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=deployer)
    usdc_feed = project.MockAggregator.deploy(8, "USDC / USD", 10**8, sender=deployer)
    contracts = deploy_protocol(project, deployer, deployer, guardian, usdc, config)
    contracts["oracle"].setSources(usdc, [usdc_feed], [config.debt_heartbeat], 1, config.max_deviation, sender=deployer)
    contracts.update({"usdc": usdc, "usdc_feed": usdc_feed})
    for spec in config.collaterals:
        token = project.MockERC20.deploy(f"Test {spec.symbol}", spec.symbol, spec.decimals, sender=deployer)
        feed = project.MockAggregator.deploy(8, f"{spec.symbol} / USD", spec.usd_price * 10**8, sender=deployer)
        list_collateral(contracts, deployer, token, [feed], spec, config, 10**6)
        contracts[spec.symbol.lower()] = token
        contracts[f"{spec.symbol.lower()}_feed"] = feed
    set_gas_asset(contracts, deployer, config)

    factory = ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Factory")).deploy(deployer, sender=deployer)
    weth9 = ContractContainer(npm_artifact("@uniswap/v2-periphery", "WETH9")).deploy(sender=deployer)
    router = ContractContainer(npm_artifact("@uniswap/v2-periphery", "UniswapV2Router02")).deploy(
        factory, weth9, sender=deployer
    )
    taker = project.UniswapV2Taker.deploy(contracts["liquidator"], usdc, sender=deployer)
    contracts.update({"uniswap_factory": factory, "uniswap_router": router, "weth9": weth9, "taker": taker})
    return contracts


def add_liquidity(router: Any, owner: Any, token: Any, usdc: Any, token_amount: int, usdc_amount: int) -> None:
    """Mint both sides (local test tokens) and add them to the token/USDC pool."""
    token.mint(owner, token_amount, sender=owner)
    usdc.mint(owner, usdc_amount, sender=owner)
    token.approve(router, token_amount, sender=owner)
    usdc.approve(router, usdc_amount, sender=owner)
    router.addLiquidity(token, usdc, token_amount, usdc_amount, 0, 0, owner, 2**255, sender=owner)
