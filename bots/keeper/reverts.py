"""Why a call reverted, in words: its revert data decoded against the custom errors of the
project's contracts (declared in contracts/interfaces/*.sol and a few contracts), Solidity's
`Error(string)` and `Panic(uint256)`; and whether that reason means a lost race (another keeper
did the work first) or a failure of this keeper's own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bots.keeper.status import short_id

# The reverts that say the work is already done: the auction ended (taken), the account is
# healthy or has no debt left (kicked, or it recovered), its auction is live (kicked), the redo
# was done. Anything else (a breaker, a price above the cap, a swap that pays too little...) is
# the keeper's own failure, counted as an error with its reason.
RACES = frozenset({"AuctionNotActive", "NotLiquidatable", "NoDebt", "AuctionsLive", "AuctionNotDone"})
_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


@dataclass(frozen=True)
class Revert:
    name: str  # the error's name; "" when the revert carried no data that could be decoded
    args: tuple[tuple[str, Any], ...] = ()
    raw: str = ""  # what the node said, when nothing could be decoded

    @property
    def race(self) -> bool:
        return self.name in RACES

    def __str__(self) -> str:
        if not self.name:
            return self.raw or "reverted without a reason"
        shown = (f"{k}={short_id(v) if k == 'id' else v}" for k, v in self.args)  # an auction id: short
        return f"{self.name}({', '.join(shown)})"


class RevertDecoder:
    """Custom errors by selector (the first four bytes of their revert data)."""

    def __init__(self, errors: dict[bytes, tuple[str, list[str], list[str]]]) -> None:
        self.errors = {
            bytes.fromhex("08c379a0"): ("Error", ["string"], ["message"]),
            bytes.fromhex("4e487b71"): ("Panic", ["uint256"], ["code"]),
            **errors,
        }

    @classmethod
    def from_project(cls, project: Any) -> RevertDecoder:
        """Every custom error the project's compiled contracts declare."""
        errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for contract_type in project.contracts.values():
            for abi in contract_type.errors:
                types = [i.canonical_type for i in abi.inputs]
                selector = keccak(text=f"{abi.name}({','.join(types)})")[:4]
                errors[selector] = (abi.name, types, [i.name or f"arg{n}" for n, i in enumerate(abi.inputs)])
        return cls(errors)

    def decode(self, data: str | bytes | None, said: str = "") -> Revert:
        """The revert behind `data` (0x hex or bytes); `said` (the node's message) when there is
        no data or its selector is unknown."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data or b""
        known = self.errors.get(raw[:4]) if len(raw) >= 4 else None
        if known is None:
            return Revert("", (), said + (f" (data 0x{raw.hex()})" if raw else ""))
        name, types, names = known
        try:
            values = decode(types, raw[4:])
        except Exception:  # noqa: BLE001 - a selector clash with other arguments
            return Revert(name, (), said)
        return Revert(name, tuple((n, _plain(t, v)) for n, t, v in zip(names, types, values, strict=True)))

    def of(self, err: Exception) -> Revert:
        """The revert behind an exception from web3, Ape or the keeper's JSON-RPC client: its
        `data` when it has some, else the first long hex string in its message."""
        said = str(getattr(err, "message", "") or err)[:200]
        data = getattr(err, "data", None)
        if isinstance(data, dict):
            data = data.get("data")
        if not (isinstance(data, str) and data.startswith("0x")):
            found = _HEX.search(str(err))
            data = found.group(0) if found else None
        return self.decode(data, said)


def _plain(solidity_type: str, value: Any) -> Any:
    return to_checksum_address(value) if solidity_type == "address" else value
