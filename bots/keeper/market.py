"""A market's state as one tick needs it, read in one JSON-RPC batch at one block: the Vault's
collateral list and parameters, the borrow index, and every price the screen uses. At a block's
arrival this is one round trip instead of a dozen contract calls, each with its own checks.

Calls are encoded and decoded here with their signatures (eth_abi), not through a contract
object: these few views are fixed by IVault and IOracleAdapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from bots.keeper.rpc import HttpJsonRpc, RpcError

OK = 0  # IOracleAdapter.Status.Ok


class MarketReadFailed(Exception):
    """A view the tick cannot do without failed; the message names it."""


@dataclass(frozen=True)
class View:
    signature: str
    arg_types: tuple[str, ...]
    out_types: tuple[str, ...]

    def data(self, *args: Any) -> str:
        return "0x" + (function_signature_to_4byte_selector(self.signature) + encode(list(self.arg_types), args)).hex()

    def decode(self, result: str) -> tuple[Any, ...]:
        return tuple(decode(list(self.out_types), bytes.fromhex(result[2:])))


COLLATERAL_TOKENS = View("collateralTokens()", (), ("address[]",))
COLLATERAL_PARAMS = View(
    "collateralParams(address)", ("address",), ("(uint256,uint256,uint256,uint256,uint256,uint256)",)
)
BORROW_INDEX = View("borrowIndex()", (), ("uint256",))
PEEK = View("peek(address)", ("address",), ("uint256", "uint8"))
DECIMALS = View("decimals()", (), ("uint8",))
SOURCES_OF = View("sourcesOf(address)", ("address",), ("(address,uint32,uint8)[]", "uint8", "uint256"))


@dataclass(frozen=True)
class MarketState:
    block: int
    assets: tuple[str, ...]  # checksummed, in the Vault's order
    decimals: tuple[int, ...]
    thresholds: tuple[int, ...]  # [wad]
    penalties: tuple[int, ...]  # [wad]
    prices: tuple[int, ...]  # [wad USD per whole token]; 0 where the oracle has no Ok price
    debt_price: int  # [wad USD per whole debt token]; 0 without an Ok price
    borrow_index: int  # [wad]


@dataclass(frozen=True)
class Feed:
    address: str
    decimals: int


class MarketReader:
    """Reads a MarketState per tick; the collateral list is re-read with every state, and a change
    in it costs one more round trip."""

    def __init__(self, rpc: HttpJsonRpc, vault: str, oracle: str, debt_asset: str) -> None:
        self.rpc, self.vault, self.oracle, self.debt_asset = rpc, vault, oracle, debt_asset
        self._assets: tuple[str, ...] = ()
        self._decimals: dict[str, int] = {}

    def read(self, block: int) -> MarketState:
        listed, state = self._read(block, self._assets)
        if listed != self._assets:  # listed or delisted since: read again with the new list
            self._assets = listed
            _, state = self._read(block, listed)
        return state

    def _call(self, to: str, data: str, tag: str) -> tuple[str, list[Any]]:
        return ("eth_call", [{"to": to, "data": data}, tag])

    def _read(self, block: int, assets: tuple[str, ...]) -> tuple[tuple[str, ...], MarketState]:
        """The Vault's collateral list now, and the state of `assets` (the list as last known)."""
        tag = hex(block)
        new = [a for a in assets if a not in self._decimals]
        calls = [
            self._call(self.vault, COLLATERAL_TOKENS.data(), tag),
            self._call(self.vault, BORROW_INDEX.data(), tag),
            self._call(self.oracle, PEEK.data(self.debt_asset), tag),
        ]
        calls += [self._call(self.vault, COLLATERAL_PARAMS.data(a), tag) for a in assets]
        calls += [self._call(self.oracle, PEEK.data(a), tag) for a in assets]
        calls += [self._call(a, DECIMALS.data(), tag) for a in new]
        answers = self.rpc.batch(calls)
        names = ["collateralTokens", "borrowIndex", "peek(debt asset)"]
        names += [f"collateralParams({a})" for a in assets] + [f"peek({a})" for a in assets]
        names += [f"decimals({a})" for a in new]
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, RpcError):
                raise MarketReadFailed(f"{name} at block {block}: {answer}")
        m = len(assets)
        listed = tuple(to_checksum_address(a) for a in COLLATERAL_TOKENS.decode(answers[0])[0])
        borrow_index = int(BORROW_INDEX.decode(answers[1])[0])
        debt_price, debt_status = PEEK.decode(answers[2])
        params = [COLLATERAL_PARAMS.decode(r)[0] for r in answers[3 : 3 + m]]
        peeks = [PEEK.decode(r) for r in answers[3 + m : 3 + 2 * m]]
        for asset, answer in zip(new, answers[3 + 2 * m :], strict=True):
            self._decimals[asset] = int(DECIMALS.decode(answer)[0])
        return listed, MarketState(
            block,
            assets,
            tuple(self._decimals.get(a, 0) for a in assets),
            tuple(int(p[1]) for p in params),
            tuple(int(p[2]) for p in params),
            tuple(int(price) if int(status) == OK else 0 for price, status in peeks),
            int(debt_price) if int(debt_status) == OK else 0,
            borrow_index,
        )

    def feeds(self, asset: str) -> list[Feed]:
        """The oracle's sources for `asset` (for a stress simulation that overrides them)."""
        sources, _, _ = SOURCES_OF.decode(
            self.rpc("eth_call", [{"to": self.oracle, "data": SOURCES_OF.data(asset)}, "latest"])
        )
        return [Feed(to_checksum_address(feed), int(decimals)) for feed, _, decimals in sources]
