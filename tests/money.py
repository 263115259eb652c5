"""Reference math for the tests: the contracts' formulas written again in Python integers, with
the same rounding, so expectations can be checked to the wei."""

WAD = 10**18


def div_up(x: int, d: int) -> int:
    return -(-x // d)


def mul_div_down(x: int, y: int, d: int) -> int:
    return x * y // d


def mul_div_up(x: int, y: int, d: int) -> int:
    return div_up(x * y, d)


def wmul_down(x: int, y: int) -> int:
    return x * y // WAD


def wmul_up(x: int, y: int) -> int:
    return div_up(x * y, WAD)


def wdiv_down(x: int, y: int) -> int:
    return x * WAD // y


def wdiv_up(x: int, y: int) -> int:
    return div_up(x * WAD, y)


def collateral_to_debt_up(collateral: int, price: int, collateral_scale: int, debt_scale: int) -> int:
    return div_up(collateral * price * debt_scale, collateral_scale * WAD)


def debt_to_collateral_down(debt: int, price: int, collateral_scale: int, debt_scale: int) -> int:
    return debt * collateral_scale * WAD // (price * debt_scale)


def linear_price(top: int, elapsed: int, tau: int) -> int:
    return 0 if elapsed >= tau else mul_div_up(top, tau - elapsed, tau)


def wpow_up(x: int, n: int) -> int:
    z = WAD
    while n > 0:
        if n & 1:
            z = wmul_up(z, x)
        n >>= 1
        if n > 0:
            x = wmul_up(x, x)
    return z


RISK_KNEE = 80 * WAD // 100  # DutchAuctionLiquidator.RISK_KNEE
RISK_FULL = 85 * WAD // 100  # DutchAuctionLiquidator.RISK_FULL
FALL_FULL = WAD // 10  # DutchAuctionLiquidator.FALL_FULL


def auction_price(
    curve_price: int, top: int, kick_top: int, cusp: int, debt: int, lot: int, collateral_scale: int, debt_scale: int
) -> int:
    """[wad debt tokens per whole collateral token] An auction's price as the liquidator's
    `_status` computes it: the lower of the curve's price and the risk price (the top less a share
    of the way to the floor: the larger of the fall since the kick against FALL_FULL and the lot's
    debt over its worth at the top between RISK_KNEE and RISK_FULL), never below the floor
    `top * cusp`."""
    floor = wmul_up(top, cusp)
    share = 0
    if top < kick_top:
        share = mul_div_up(kick_top - top, WAD, wmul_down(kick_top, FALL_FULL))
    worth = lot * top * debt_scale // (collateral_scale * WAD)
    if debt == 0:
        risk_price = top
    elif worth == 0:
        risk_price = floor
    else:
        risk = wdiv_up(debt, worth)
        if risk > RISK_KNEE:
            share = max(share, mul_div_up(risk - RISK_KNEE, WAD, RISK_FULL - RISK_KNEE))
        risk_price = floor if share >= WAD else top - mul_div_up(top - floor, share, WAD)
    return max(min(curve_price, risk_price), floor)


def crisis_floor(floor: int, waivable: int, debt: int, lot: int, collateral_scale: int, debt_scale: int) -> int:
    """[wad debt tokens per whole collateral token] Where a lot at full urgency sells, as the
    liquidator's `_crisisFloor` computes it: below `floor` by what its penalty may still waive
    (`waivable` [debt decimals]) per whole token of the lot, rounded down, never below its
    break-even (debt over lot, rounded up), never above the floor."""
    to_wad = collateral_scale * WAD
    per_token = waivable * to_wad // (lot * debt_scale)
    even = mul_div_up(debt, to_wad, lot * debt_scale)
    return min(floor, max(floor - per_token if per_token < floor else 0, even))
