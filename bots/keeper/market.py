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
HEALTH_FACTORS = View("healthFactors(address[])", ("address[]",), ("uint256[]",))
AGGREGATOR = View("aggregator()", (), ("address",))  # a Chainlink proxy's current aggregator
SOURCES_OF = View("sourcesOf(address)", ("address",), ("(address,uint32,uint8)[]", "uint8", "uint256"))
GET_STATUS = View("getStatus(uint256)", ("uint256",), ("bool", "uint256", "uint256", "uint256"))  # the liquidator's


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

    def read_after(self, block: int, pending: list[dict[str, str]]) -> MarketState:
        """The state as it will be once `pending` (transactions in the pool, as calls from their
        senders) is mined on top of `block`: one eth_simulateV1 request, the same views read
        after them in the same simulated block. The collateral list is the one last read.
        MarketReadFailed when one of `pending` would revert."""
        views, names = self._views(self._assets, [])
        calls = pending + [{"to": to, "data": data} for to, data in views]
        request = {"blockStateCalls": [{"calls": calls}], "validation": False}
        simulated = self.rpc("eth_simulateV1", [request, hex(block)])
        answers: list[Any] = []
        for i, answer in enumerate(simulated[0]["calls"]):
            failed = int(answer["status"], 16) != 1
            if i < len(pending):
                if failed:
                    raise MarketReadFailed(f"pending transaction {i} to {pending[i]['to']} would revert")
                continue
            reason = str((answer.get("error") or {}).get("message", "reverted"))
            answers.append(RpcError("eth_call", 0, reason) if failed else answer["returnData"])
        return self._decode(block, self._assets, [], names, answers)[1]

    def update_targets(self, assets: list[str]) -> set[str]:
        """Where a price update for `assets` is sent (lower-case): each oracle source, and the
        aggregator behind it where the source is a proxy (Chainlink's `transmit` goes to the
        aggregator, not to the proxy the oracle reads). Two batches."""
        feeds = {feed.address.lower() for sources in self.feeds_of(assets).values() for feed in sources}
        behind = self.rpc.batch([self._call(feed, AGGREGATOR.data(), "latest") for feed in sorted(feeds)])
        aggregators = {str(AGGREGATOR.decode(a)[0]).lower() for a in behind if isinstance(a, str) and len(a) == 66}
        return feeds | (aggregators - {"0x" + "00" * 20})

    def _call(self, to: str, data: str, tag: str) -> tuple[str, list[Any]]:
        return ("eth_call", [{"to": to, "data": data}, tag])

    def _views(self, assets: tuple[str, ...], new: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
        """The (to, calldata) of every view a state needs, and their names for errors."""
        views = [
            (self.vault, COLLATERAL_TOKENS.data()),
            (self.vault, BORROW_INDEX.data()),
            (self.oracle, PEEK.data(self.debt_asset)),
        ]
        views += [(self.vault, COLLATERAL_PARAMS.data(a)) for a in assets]
        views += [(self.oracle, PEEK.data(a)) for a in assets]
        views += [(a, DECIMALS.data()) for a in new]
        names = ["collateralTokens", "borrowIndex", "peek(debt asset)"]
        names += [f"collateralParams({a})" for a in assets] + [f"peek({a})" for a in assets]
        names += [f"decimals({a})" for a in new]
        return views, names

    def _read(self, block: int, assets: tuple[str, ...]) -> tuple[tuple[str, ...], MarketState]:
        """The Vault's collateral list now, and the state of `assets` (the list as last known)."""
        tag = hex(block)
        new = [a for a in assets if a not in self._decimals]
        views, names = self._views(assets, new)
        answers = self.rpc.batch([self._call(to, data, tag) for to, data in views])
        return self._decode(block, assets, new, names, answers)

    def _decode(
        self, block: int, assets: tuple[str, ...], new: list[str], names: list[str], answers: list[Any]
    ) -> tuple[tuple[str, ...], MarketState]:
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
        """The oracle's sources for `asset` (for a stress simulation that overrides them);
        MarketReadFailed when the oracle will not say."""
        found = self.feeds_of([asset])
        if asset not in found:
            raise MarketReadFailed(f"sourcesOf({asset}) failed")
        return found[asset]

    def feeds_of(self, assets: list[str]) -> dict[str, list[Feed]]:
        """The oracle's sources of each asset it answers for, in one batch."""
        answers = self.rpc.batch([self._call(self.oracle, SOURCES_OF.data(a), "latest") for a in assets])
        return {
            asset: [Feed(to_checksum_address(feed), int(decimals)) for feed, _, decimals in SOURCES_OF.decode(a)[0]]
            for asset, a in zip(assets, answers, strict=True)
            if not isinstance(a, RpcError)
        }
