"""Moving a local Uniswap V2 pool to a price, as an arbitrageur would after the oracle moved."""

from __future__ import annotations

import math
from typing import Any

USDC = 10**6


def trade_to(dollars: int, pair: Any, router: Any, token: Any, usdc: Any, arb: Any) -> None:
    """Trade the token/USDC `pair` until its price is about `dollars` (whole USD per whole token),
    selling the token into it or buying it out, whichever way it is off. The arbitrageur mints what
    it sells: local test tokens only. Fees are left out: it lands within 0.3% of the target."""
    if not isinstance(pair, str):
        pair = pair.address
    reserve0, reserve1, _ = _pair(pair).getReserves()
    token_first = int(token.address, 16) < int(usdc.address, 16)
    token_reserve, usdc_reserve = (reserve0, reserve1) if token_first else (reserve1, reserve0)
    # Constant product k: at the target price p (USDC units per token unit) token' = sqrt(k / p).
    target = math.isqrt(token_reserve * usdc_reserve * 10 ** token.decimals() // (dollars * USDC))
    if target > token_reserve:
        amount, path = target - token_reserve, [token, usdc]
        token.mint(arb, amount, sender=arb)
    elif target < token_reserve:
        amount, path = token_reserve * usdc_reserve // target - usdc_reserve, [usdc, token]
        usdc.mint(arb, amount, sender=arb)
    else:
        return
    path[0].approve(router, amount, sender=arb)
    router.swapExactTokensForTokens(amount, 0, path, arb, 2**255, sender=arb)


def _pair(address: str) -> Any:
    from ape.contracts import ContractContainer

    from scripts._deployment import npm_artifact

    return ContractContainer(npm_artifact("@uniswap/v2-core", "UniswapV2Pair")).at(address)
