"""The contracts' hard bounds, mirrored off-chain, so a bad parameter is refused before anything
is sent instead of by a revert halfway through a deployment.

Every bound in CONSTANTS is a public constant of the contract named beside it, and
tests/scripts/test_bounds.py reads each one from the contract, so the two cannot drift. The few
bounds a setter writes inline (dust, the tip) are cited where they are used. A check returns its
problems, one short phrase each naming the key, so a caller can refuse them all in one line."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # _deployment checks its configs here before it sends anything
    from scripts._deployment import CollateralSpec, ProtocolConfig

WAD = 10**18
UINT128_MAX = 2**128 - 1

# name -> (contract holding it as a public constant, value)
CONSTANTS: dict[str, tuple[str, int]] = {
    "MAX_COLLATERALS": ("Vault", 10),
    "MIN_LIQUIDATION_THRESHOLD": ("Vault", 5 * WAD // 100),
    "MAX_LIQUIDATION_THRESHOLD": ("Vault", 95 * WAD // 100),
    "MIN_PENALTY": ("Vault", WAD // 100),
    "MAX_PENALTY": ("Vault", WAD // 4),
    "MAX_RATE": ("Vault", 10 * WAD),
    "MIN_KINK": ("Vault", WAD // 2),
    "MAX_KINK": ("Vault", 99 * WAD // 100),
    "MAX_RESERVE_FACTOR": ("Vault", WAD // 2),
    "MIN_CLOSE_FACTOR": ("Vault", WAD // 10),
    "MIN_DEEP_HEALTH": ("Vault", WAD // 2),
    "MIN_BUF": ("DutchAuctionLiquidator", WAD),
    "MAX_BUF": ("DutchAuctionLiquidator", 2 * WAD),
    "MIN_TAIL": ("DutchAuctionLiquidator", 5 * 60),
    "MAX_TAIL": ("DutchAuctionLiquidator", 7 * 86400),
    "MIN_CUSP": ("DutchAuctionLiquidator", 5 * WAD // 100),
    "MAX_CUSP": ("DutchAuctionLiquidator", 99 * WAD // 100),
    "MAX_CHIP": ("DutchAuctionLiquidator", 5 * WAD // 100),
    "MAX_SOURCES": ("OracleAdapter", 5),
    "MIN_HEARTBEAT": ("OracleAdapter", 60),
    "MAX_HEARTBEAT": ("OracleAdapter", 3 * 86400),
    "MIN_DEVIATION": ("OracleAdapter", WAD // 1000),
    "MAX_DEVIATION": ("OracleAdapter", WAD // 2),
    "MIN_TAU": ("LinearDecrease", 60),
    "MAX_TAU": ("LinearDecrease", 30 * 86400),
    "MIN_STEP": ("StairstepExponentialDecrease", 1),
    "MAX_STEP": ("StairstepExponentialDecrease", 86400),
    "MIN_CUT": ("StairstepExponentialDecrease", WAD // 2),
    "MAX_CUT": ("StairstepExponentialDecrease", 9999 * WAD // 10000),
}
MAX_DUST = 10**6  # [whole debt tokens] Vault.setLiquidationConfig: minDebt <= 1e6 * debtScale
MAX_SMALL_DEBT = 10**9  # [whole debt tokens] and smallDebt <= 1e3 * that
MAX_TIP = 1_000  # [whole debt tokens] DutchAuctionLiquidator.maxTip
MAX_DECIMALS = 36  # the Vault lists, and the oracle scales, nothing finer


def bound(name: str) -> int:
    return CONSTANTS[name][1]


def ratio(wad: int) -> str:
    """A WAD ratio as the decimal a markets file writes ("0.8")."""
    return f"{Decimal(wad) / WAD:f}"


def within(key: str, value: int, low: int, high: int, show: Callable[[int], str] = str) -> list[str]:
    """[] when low <= value <= high, else the one problem naming `key`."""
    if low <= value <= high:
        return []
    if low > high:  # a bound derived from another bad value
        return [f"{key} = {show(value)} cannot be satisfied (its upper bound {show(high)} is under {show(low)})"]
    return [f"{key} = {show(value)} is outside {show(low)}..{show(high)}"]


def collateral_problems(
    spec: CollateralSpec, key: Callable[[str], str], debt_scale: int, feeds: int = 1, quorum: int = 1
) -> list[str]:
    """A collateral's parameters against the checks of Vault.setCollateralParams,
    DutchAuctionLiquidator.setAuctionConfig and OracleAdapter.setSources. `key(field)` names a
    field for the message (a markets file's key, or a config's)."""
    threshold = spec.liquidation_threshold
    # The collateral seized at health factor 1 must still cover the debt and its penalty.
    max_penalty = min(bound("MAX_PENALTY"), WAD * WAD // threshold - WAD) if threshold > 0 else 0
    return [
        *within(key("heartbeat"), spec.heartbeat, bound("MIN_HEARTBEAT"), bound("MAX_HEARTBEAT")),
        *within(key("quorum"), quorum, 1, feeds),
        *within(key("feeds"), feeds, 1, bound("MAX_SOURCES")),
        *within(key("decimals"), spec.decimals, 0, MAX_DECIMALS),
        *within(
            key("liquidation_threshold"),
            threshold,
            bound("MIN_LIQUIDATION_THRESHOLD"),
            bound("MAX_LIQUIDATION_THRESHOLD"),
            ratio,
        ),
        *within(key("max_ltv"), spec.max_ltv, 0, threshold, ratio),
        *within(key("penalty"), spec.penalty, bound("MIN_PENALTY"), max_penalty, ratio),
        *within(key("supply_cap"), spec.supply_cap, 0, UINT128_MAX // 10**spec.decimals),
        *within(key("lot_cap"), spec.lot_cap, 1, UINT128_MAX // debt_scale),
        *within(key("live_tab_cap"), spec.live_tab_cap, spec.lot_cap, UINT128_MAX // debt_scale),
        *within(key("buf"), spec.buf, bound("MIN_BUF"), bound("MAX_BUF"), ratio),
        *within(key("tail"), spec.tail, bound("MIN_TAIL"), bound("MAX_TAIL")),
        *within(key("cusp"), spec.cusp, bound("MIN_CUSP"), bound("MAX_CUSP"), ratio),
    ]


def protocol_problems(config: ProtocolConfig) -> list[str]:
    """The protocol-wide parameters against the checks of the setters deploy_protocol calls."""
    curve = {
        "linear": within("linear_tau", config.linear_tau, bound("MIN_TAU"), bound("MAX_TAU")),
        "exponential": [
            *within("step", config.step, bound("MIN_STEP"), bound("MAX_STEP")),
            *within("cut", config.cut, bound("MIN_CUT"), bound("MAX_CUT"), ratio),
        ],
    }.get(config.curve, [f"curve = {config.curve!r} is neither 'linear' nor 'exponential'"])
    return [
        *within("base_rate", config.base_rate, 0, bound("MAX_RATE"), ratio),
        *within("slope1", config.slope1, 0, bound("MAX_RATE"), ratio),
        *within("slope2", config.slope2, 0, bound("MAX_RATE"), ratio),
        *within("kink", config.kink, bound("MIN_KINK"), bound("MAX_KINK"), ratio),
        *within("reserve_factor", config.reserve_factor, 0, bound("MAX_RESERVE_FACTOR"), ratio),
        *within("min_debt", config.min_debt, 1, MAX_DUST),
        *within("small_debt", config.small_debt, config.min_debt, MAX_SMALL_DEBT),
        *within("deep_health", config.deep_health, bound("MIN_DEEP_HEALTH"), WAD, ratio),
        *within("close_factor", config.close_factor, bound("MIN_CLOSE_FACTOR"), WAD, ratio),
        *within("penalty_fund_share", config.penalty_fund_share, 0, WAD, ratio),
        *within("tip", config.tip, 0, MAX_TIP),
        *within("chip", config.chip, 0, bound("MAX_CHIP"), ratio),
        *within("max_deviation", config.max_deviation, bound("MIN_DEVIATION"), bound("MAX_DEVIATION"), ratio),
        *within("debt_heartbeat", config.debt_heartbeat, bound("MIN_HEARTBEAT"), bound("MAX_HEARTBEAT")),
        *curve,
    ]


def config_problems(config: ProtocolConfig, debt_scale: int) -> list[str]:
    """A whole local deployment's parameters: the protocol's and each collateral's in `config`."""
    problems = protocol_problems(config)
    for spec in config.collaterals:
        problems += collateral_problems(spec, f"{spec.symbol} {{}}".format, debt_scale)
    return problems
