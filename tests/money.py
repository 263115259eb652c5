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
