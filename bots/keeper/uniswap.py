"""Uniswap V2 pair addresses, computed as Router02 computes them (CREATE2 from the factory), so
the keeper needs no call to the factory. Pure."""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

# keccak256 of UniswapV2Pair's creation code: the one in mainnet's Router02 and in the npm
# artifacts Gavel deploys locally, so the same formula holds on both.
PAIR_INIT_CODE_HASH = bytes.fromhex("96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f")


def sort_tokens(a: str, b: str) -> tuple[str, str]:
    if a.lower() == b.lower():
        raise ValueError(f"a pair needs two different tokens, got {a} twice")
    return (a, b) if int(a, 16) < int(b, 16) else (b, a)


def pair_for(factory: str, token_a: str, token_b: str) -> str:
    """The pair's address for the two tokens, whether or not it has been created yet."""
    token0, token1 = sort_tokens(token_a, token_b)
    salt = keccak(bytes.fromhex(token0[2:]) + bytes.fromhex(token1[2:]))
    digest = keccak(b"\xff" + bytes.fromhex(factory[2:]) + salt + PAIR_INIT_CODE_HASH)
    return to_checksum_address(digest[12:])
