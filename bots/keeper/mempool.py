"""Oracle updates still in the node's transaction pool: a feed's `transmit` or `setAnswer` that
the next block will carry. The keeper simulates them, finds the accounts they will put under, and
sends those kicks to land in the same block, right after the update (see `Keeper`).

The pool is read with `txpool_content` (Anvil, Geth, Erigon, Reth): one request for every
executable transaction. A node without it (most hosted RPCs) is noticed once and the keeper then
works from mined blocks only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bots.keeper.rpc import HttpJsonRpc, RpcError

log = logging.getLogger("gavel.keeper.mempool")


@dataclass(frozen=True)
class PendingTx:
    """A transaction waiting in the pool, as much of it as a simulation and a backrun need."""

    hash: str
    sender: str  # lower-case
    nonce: int
    to: str  # lower-case
    data: str  # 0x calldata
    value: int  # [wei]
    gas: int
    max_fee: int  # [wei per gas] maxFeePerGas, or gasPrice for a legacy transaction
    tip_cap: int  # [wei per gas] maxPriorityFeePerGas, or gasPrice for a legacy transaction

    def call(self) -> dict[str, str]:
        """The transaction as a call from its sender (for eth_simulateV1 without validation)."""
        return {"from": self.sender, "to": self.to, "data": self.data, "value": hex(self.value), "gas": hex(self.gas)}

    @classmethod
    def from_rpc(cls, tx: dict[str, Any]) -> PendingTx:
        legacy = tx.get("gasPrice") if tx.get("maxFeePerGas") is None else None
        return cls(
            str(tx["hash"]),
            str(tx["from"]).lower(),
            int(tx["nonce"], 16),
            str(tx["to"]).lower(),
            str(tx.get("input") or tx.get("data") or "0x"),
            int(tx.get("value") or "0x0", 16),
            int(tx["gas"], 16),
            int(legacy or tx["maxFeePerGas"], 16),
            int(legacy or tx["maxPriorityFeePerGas"], 16),
        )


class TxPool:
    """Reads the node's pool. `available` is learnt on the first read."""

    def __init__(self, rpc: HttpJsonRpc) -> None:
        self.rpc = rpc
        self.available: bool | None = None

    def sent_to(self, targets: set[str]) -> list[PendingTx]:
        """The pool's executable transactions addressed to any of `targets` (lower-case), each
        sender's in nonce order; [] when the node does not show its pool."""
        if self.available is False or not targets:
            return []
        try:
            content = self.rpc("txpool_content", [])
        except RpcError as err:
            if self.available:
                raise  # it worked before: a passing failure, counted by the tick
            self.available = False
            log.warning("the node does not show its transaction pool (%s): kicks wait for mined updates", err.message)
            return []
        self.available = True
        found = [
            PendingTx.from_rpc(tx)
            for by_nonce in (content.get("pending") or {}).values()
            for tx in by_nonce.values()
            if tx.get("to") and str(tx["to"]).lower() in targets
        ]
        return sorted(found, key=lambda t: (t.sender, t.nonce))
