"""Moving a local Uniswap V2 pool to a price, as an arbitrageur would after the oracle moved: the
demo's, the crash bench's and `ape run market`'s arbitrageur."""

from __future__ import annotations

import math
from typing import Any

MAX = 2**256 - 1


def trade_to(price: int, pair: Any, router: Any, token: Any, usdc: Any, arb: Any, band_bps: int = 0) -> None:
    """Trade the token/USDC `pair` (a UniswapV2Pair contract) until its price is about `price`
    [USDC units per whole token], selling the token into it or buying it out with USDC,
    whichever way it is off by more than `band_bps`. The arbitrageur mints what it sells (local
    test tokens only) and approves the router for it unless it already may. Fees are left out:
    it lands within 0.3%."""
    reserve0, reserve1, _ = pair.getReserves()
    token_first = int(str(token.address), 16) < int(str(usdc.address), 16)
    reserve, usdc_reserve = (reserve0, reserve1) if token_first else (reserve1, reserve0)
    # Constant product k: at the target price p (USDC units per token unit) token' = sqrt(k / p).
    target = math.isqrt(reserve * usdc_reserve * 10 ** int(token.decimals()) // price)
    if target > reserve * (10_000 + band_bps) // 10_000:  # dearer than `price`: sell the token into it
        amount, path = target - reserve, [token, usdc]
    elif target < reserve * (10_000 - band_bps) // 10_000:  # cheaper: buy the token back with USDC
        amount, path = reserve * usdc_reserve // target - usdc_reserve, [usdc, token]
    else:
        return
    path[0].mint(arb, amount, sender=arb)
    if int(path[0].allowance(arb, router)) < amount:
        path[0].approve(router, amount, sender=arb)
    router.swapExactTokensForTokens(amount, 0, path, arb, MAX, sender=arb)
