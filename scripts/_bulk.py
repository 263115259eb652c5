"""Many accounts on a local Anvil, fast: for the keeper benchmark (`make bench-keeper`).

Borrowers are impersonated addresses (Anvil signs for them), their transactions go out in
JSON-RPC batches with mining off and are mined a few thousand at a time in one large block: at
100,000 accounts every block costs Anvil over a second, so few blocks keep set-up in minutes.
Block timestamps are set here, never taken from the wall clock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from bots.keeper.rpc import HttpJsonRpc, RpcError

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
MNEMONIC = "test test test test test test test test test test test junk"  # Anvil's and Ape's test default
BUILD_GAS_LIMIT = 2_000_000_000  # [gas] while building: a few thousand transactions per block
BLOCK_GAS_LIMIT = 30_000_000  # [gas] mainnet's, for what is measured
SECONDS_PER_BLOCK = 12


def calldata(signature: str, types: list[str], args: list[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, args)).hex()


def borrower_address(i: int) -> str:
    """The i-th benchmark borrower: an address nobody holds a key for (Anvil impersonates it)."""
    return "0x" + f"{0xB0 << 152 | i:040x}"


class Anvil:
    """A fresh Anvil on a free port (chain id 1337, Ape's local network), without the step
    tracing Ape's provider turns on: at 100,000 accounts that tracing alone exhausts memory."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        args = [str(ANVIL), "--port", str(self.port), "--chain-id", "1337", "--mnemonic", MNEMONIC]
        args += ["--gas-limit", str(BLOCK_GAS_LIMIT), "--silent"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.rpc = HttpJsonRpc(self.uri, timeout=600)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.rpc("eth_chainId", [])
                return
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"Anvil did not start on port {self.port}: is `make install` done?") from None
                time.sleep(0.1)

    def rss_mb(self) -> float:
        """Anvil's resident memory [MB]."""
        pages = int(Path(f"/proc/{self.process.pid}/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


@dataclass
class BulkChain:
    """Raw JSON-RPC to an Anvil with mining under the caller's control."""

    rpc: HttpJsonRpc

    def manual_mining(self) -> None:
        self.rpc("evm_setAutomine", [False])
        self.rpc("anvil_autoImpersonateAccount", [True])

    def mined_after(self, work: Callable[[], T]) -> T:
        """Run `work` (a keeper tick) with mining held, then mine what it sent, as a network would:
        Anvil's automine mines a batch of sends as they arrive, some alone and some several to a
        block as the machine's timing falls, so no two runs are alike. With mining held the keeper
        still simulates every send against the pending block, and the blocks that follow hold what
        it sent in nonce order."""
        self.rpc("evm_setAutomine", [False])
        try:
            result = work()
            for _ in range(100):
                if int(self.rpc("txpool_status", [])["pending"], 16) == 0:
                    break
                self.rpc("evm_mine", [])
            else:
                raise RuntimeError("the keeper's transactions were not mined in 100 blocks")
        finally:
            self.rpc("evm_setAutomine", [True])
        return result

    def head(self) -> dict[str, Any]:
        block: dict[str, Any] = self.rpc("eth_getBlockByNumber", ["latest", False])
        return block

    def mine(self, gas_limit: int | None = None) -> int:
        """One block, dated SECONDS_PER_BLOCK after the head; returns its number."""
        if gas_limit is not None:
            self.rpc("evm_setBlockGasLimit", [hex(gas_limit)])
        head = self.head()
        self.rpc("evm_mine", [int(head["timestamp"], 16) + SECONDS_PER_BLOCK])
        return int(head["number"], 16) + 1

    def send_all(self, txs: list[dict[str, Any]]) -> list[str]:
        """eth_sendTransaction for each (impersonated senders), in batches; raises on the first
        the node refuses."""
        hashes = self.rpc.batch([("eth_sendTransaction", [tx]) for tx in txs])
        for tx, answer in zip(txs, hashes, strict=True):
            if isinstance(answer, RpcError):
                raise RuntimeError(f"the node refused a set-up transaction to {tx['to']}: {answer}")
        return [str(h) for h in hashes]

    def mine_all(self, txs: list[dict[str, Any]]) -> None:
        """Send, mine one large block, and check every transaction succeeded."""
        hashes = self.send_all(txs)
        self.mine(BUILD_GAS_LIMIT)
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        failed = [r for r in receipts if isinstance(r, RpcError) or r is None or r["status"] != "0x1"]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(txs)} set-up transactions failed, e.g. {failed[0]}")


@dataclass(frozen=True)
class Borrower:
    address: str
    collateral: dict[str, int]  # [collateral decimals] by token address
    debt: int  # [debt decimals]


def open_borrowers(
    chain: BulkChain,
    vault: str,
    funder: str,
    borrowers: list[Borrower],
    progress: Callable[[int], None],
    chunk: int = 4_000,
) -> None:
    """Supply each borrower's collateral (from `funder`, who holds and has approved it: anyone may
    supply for an account), then borrow as the borrower; `chunk` accounts per pair of blocks."""
    for first in range(0, len(borrowers), chunk):
        part = borrowers[first : first + chunk]
        chain.rpc.batch([("anvil_setBalance", [b.address, hex(10**18)]) for b in part])
        nonce = int(chain.rpc("eth_getTransactionCount", [funder, "pending"]), 16)
        supplies = [
            {
                "from": funder,
                "nonce": hex(nonce + k),
                "to": vault,
                "gas": hex(200_000),
                "data": calldata(
                    "supplyCollateral(address,uint256,address)",
                    ["address", "uint256", "address"],
                    [token, amount, b.address],
                ),
            }
            for k, (b, token, amount) in enumerate(
                (b, token, amount) for b in part for token, amount in b.collateral.items()
            )
        ]
        chain.mine_all(supplies)
        borrows = [
            {
                "from": b.address,
                "to": vault,
                "gas": hex(400_000),
                "data": calldata(
                    "borrow(uint256,address,address)", ["uint256", "address", "address"], [b.debt, b.address, b.address]
                ),
            }
            for b in part
        ]
        chain.mine_all(borrows)
        progress(first + len(part))
