"""Integer money math in the protocol's units (see docs/design.md's units table), rounding named.

The keeper mirrors the contracts' formulas where it must predict a transaction to the wei (what a
take costs); it rounds against itself (pay up, receive down) everywhere else."""

WAD = 10**18
WEI_PER_ETH = 10**18


def div_up(x: int, d: int) -> int:
    """ceil(x / d) for non-negative x and positive d."""
    return -(-x // d)


def collateral_to_debt_up(collateral: int, price: int, collateral_scale: int, debt_scale: int) -> int:
    """What `collateral` costs at `price` [wad debt tokens per whole collateral token], rounded
    up, exactly as DutchAuctionLiquidator charges it."""
    return div_up(collateral * price * debt_scale, collateral_scale * WAD)


def debt_to_collateral_down(debt: int, price: int, collateral_scale: int, debt_scale: int) -> int:
    """The collateral `debt` buys at `price`, rounded down, exactly as the liquidator sells it."""
    return debt * collateral_scale * WAD // (price * debt_scale)


def gas_cost_in_debt_up(gas_units: int, gas_price_wei: int, eth_price: int, debt_scale: int) -> int:
    """A transaction's cost [debt decimals] at `eth_price` [wad debt tokens per ETH], rounded up."""
    return div_up(gas_units * gas_price_wei * eth_price * debt_scale, WEI_PER_ETH * WAD)


def gas_cost_in_debt_down(gas_units: int, gas_price_wei: int, eth_price: int, debt_scale: int) -> int:
    """The same, rounded down: gas paid back to the keeper, counted as received."""
    return gas_units * gas_price_wei * eth_price * debt_scale // (WEI_PER_ETH * WAD)
