"""Execution: simulate, sign, broadcast without waiting, and follow every transaction to the end.

Each transaction is written to the store's outbox *before* it is broadcast (its hash is known once
signed), so a keeper that dies at any point neither forgets a transaction in flight nor sends a
second one for the same target after a restart. Every tick settles the outbox: a mined transaction
is closed, and one still pending after `replace_after_blocks` is replaced at the same nonce with
fees raised enough for the network to accept it. A replacement whose call would now revert (a rival
got there first) becomes a zero-value transfer to self instead, so the nonce is freed for the
least gas and nothing reverts on-chain.

Simulations run against the *pending* block, so a transaction already in the node's pool (this
keeper's or a rival's) is seen before anything is sent. Kicks in a crash go in bulk: one
`eth_simulateV1` request runs them all in sequence (each sees the ones before it, as they will be
mined), they are signed locally with consecutive nonces, recorded in one SQLite transaction and
broadcast in one JSON-RPC batch of raw transactions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bots.keeper.fees import FeeCapExceeded, Fees, NonceTracker, bumped, fees_for
from bots.keeper.lease import Lease, LeaseLost
from bots.keeper.logs import shown
from bots.keeper.reverts import Revert, RevertDecoder
from bots.keeper.rpc import HttpJsonRpc, RpcError
from bots.keeper.signing import Signed, Signer, Unsigned
from bots.keeper.store import PENDING, SentTx, Store

log = logging.getLogger("gavel.keeper.sender")

GAS_HEADROOM_BPS = 2_000  # estimates are for the pending block; state may move a little before mining


def expected_gas(gas_limit: int) -> int:
    """[gas] What a prepared transaction is expected to burn: its limit less the headroom added
    to the estimate (a transaction pays for the gas it uses, not its limit)."""
    return gas_limit * 10_000 // (10_000 + GAS_HEADROOM_BPS)


# A simulation's gasUsed is after refunds (at most a fifth of the gas spent, EIP-3529): the limit
# must cover the gas before them, and the state may move a little before mining.
SIMULATED_HEADROOM_BPS = 3_500
CALLS_PER_SIMULATED_BLOCK = 100  # ~100 kicks fit a 30M-gas block; eth_simulateV1 allows 256 blocks
CALLS_PER_SIMULATION = 2_000
MINED, REVERTED, DROPPED = "mined", "reverted", "dropped"


@dataclass(frozen=True)
class Prepared:
    """A call that succeeds against the pending block, ready to sign."""

    kind: str
    target: str
    to: str
    data: str  # 0x calldata
    gas: int


@dataclass(frozen=True)
class Call:
    """A call to simulate: `kind` and `target` name it in the outbox and the logs."""

    kind: str
    target: str
    to: str
    data: str


@dataclass
class Settled:
    """What settling the outbox found this time."""

    mined: list[SentTx]
    reverted: list[tuple[SentTx, Revert]]  # and why, as the call reverts at the end of its block
    replaced: list[SentTx]
    mined_in: dict[int, int] = field(default_factory=dict)  # nonce -> the block it was mined in


class Sender:
    def __init__(
        self,
        signer: Signer,
        chain: Any,
        store: Store,
        max_fee: int,
        priority_fee: int,
        replace_after_blocks: int,
        rpc: HttpJsonRpc,
        reverts: RevertDecoder | None = None,
    ) -> None:
        self.signer, self.chain, self.store, self.rpc = signer, chain, store, rpc
        self.reverts = reverts or RevertDecoder({})  # why a call reverts, by the project's errors
        self.max_fee, self.priority_fee, self.replace_after_blocks = max_fee, priority_fee, replace_after_blocks
        self.nonces = NonceTracker(0)
        self.simulate_v1: bool | None = None  # does the node answer eth_simulateV1? (learnt once)
        self.lease: Lease | None = None  # several workers on one signer: send only while holding it

    @property
    def _web3(self) -> Any:
        return self.chain.provider.web3

    # ------------------------------------------------------------------ before sending

    def prepare(self, kind: str, target: str, method: Any, *args: Any) -> Prepared:
        """Simulate `method(*args)` from the signer against the pending block. Raises whatever
        the node raises when it would revert (`reverts.of` says why)."""
        to, data = str(method.contract.address), "0x" + bytes(method.encode_input(*args)).hex()
        call = {"from": self.signer.address, "to": to, "data": data}
        self._web3.eth.call(call, "pending")
        gas = int(self._web3.eth.estimate_gas(call, "pending"))
        return Prepared(kind, target, to, data, gas + gas * GAS_HEADROOM_BPS // 10_000)

    def simulate(
        self, calls: list[Call], overrides: dict[str, Any] | None = None, behind: list[dict[str, str]] | None = None
    ) -> list[Prepared | Revert]:
        """Each call from the signer against the pending state, in sequence: a Prepared, or why
        it would revert. One `eth_simulateV1` request per CALLS_PER_SIMULATION calls, with state
        `overrides` (address -> {code, stateDiff}) applied first when given; a node without
        eth_simulateV1 gets one JSON-RPC batch of `eth_estimateGas` instead (each call on its
        own, and no overrides). `behind`: transactions still in the pool (as calls from their
        senders) that the calls must follow in the same block; they are simulated first, on top
        of the latest block (a node's "pending" state may already hold them), and every call
        reverts if one of them does."""
        if not calls:
            return []
        if self.simulate_v1 is not False:
            try:
                out: list[Prepared | Revert] = []
                for first in range(0, len(calls), CALLS_PER_SIMULATION):
                    out += self._simulate_v1(calls[first : first + CALLS_PER_SIMULATION], overrides, behind)
                self.simulate_v1 = True
                return out
            except RpcError as err:
                if self.simulate_v1 or overrides is not None or behind is not None:
                    raise
                log.info("no eth_simulateV1 (%s): simulating with batched eth_estimateGas", err.message)
                self.simulate_v1 = False
        if overrides is not None or behind is not None:
            raise RpcError("eth_simulateV1", 0, "the node cannot simulate with state overrides or pending transactions")
        answers = self.rpc.batch(
            [("eth_estimateGas", [{"from": self.signer.address, "to": c.to, "data": c.data}, "pending"]) for c in calls]
        )
        return [
            self.reverts.of(a) if isinstance(a, RpcError) else self._prepared(c, int(a, 16), GAS_HEADROOM_BPS)
            for c, a in zip(calls, answers, strict=True)
        ]

    def _simulate_v1(
        self, calls: list[Call], overrides: dict[str, Any] | None, behind: list[dict[str, str]] | None
    ) -> list[Prepared | Revert]:
        blocks = []
        for first in range(0, len(calls), CALLS_PER_SIMULATED_BLOCK):
            part = calls[first : first + CALLS_PER_SIMULATED_BLOCK]
            block: dict[str, Any] = {"calls": [{"from": self.signer.address, "to": c.to, "data": c.data} for c in part]}
            if first == 0:
                block["calls"] = (behind or []) + block["calls"]
                if overrides:
                    block["stateOverrides"] = overrides
            blocks.append(block)
        base = "latest" if behind else "pending"
        results = self.rpc("eth_simulateV1", [{"blockStateCalls": blocks, "validation": False}, base])
        answers = [answer for block in results for answer in block["calls"]]
        ahead, answers = answers[: len(behind or [])], answers[len(behind or []) :]
        if any(int(a["status"], 16) != 1 for a in ahead):
            return [Revert("", (), "the pending transaction it follows would revert")] * len(calls)
        return [
            self._prepared(c, int(a["gasUsed"], 16), SIMULATED_HEADROOM_BPS)
            if int(a["status"], 16) == 1
            # The node's message is only "execution failed": the reason is in the return data.
            else self.reverts.decode(a.get("returnData"), str((a.get("error") or {}).get("message", "reverted")))
            for c, a in zip(calls, answers, strict=True)
        ]

    @staticmethod
    def _prepared(call: Call, gas: int, headroom_bps: int) -> Prepared:
        return Prepared(call.kind, call.target, call.to, call.data, gas + gas * headroom_bps // 10_000)

    def gas_price(self) -> int:
        """[wei per gas] what a transaction sent now pays: the base fee plus the keeper's tip."""
        return self._base_fee() + self.priority_fee

    def fees_now(self, gas: int = 0) -> Fees:
        """Fees for transactions sent now that need `gas` in all; FeeCapExceeded when the network
        is above the cap."""
        head = self.chain.blocks.head
        full_blocks = -(-gas // int(head.gas_limit)) + 1 if gas else 0
        return fees_for(int(head.base_fee or 0), self.priority_fee, self.max_fee, full_blocks)

    # ------------------------------------------------------------------ sending

    def send(self, prepared: Prepared, fees: Fees, expected_profit: int = 0) -> SentTx | None:
        """Sign and broadcast; None when the node refused the broadcast (nothing is left pending)."""
        self._check_lease()
        self.nonces.resync(self._next_free_nonce())
        nonce = self.nonces.take()
        tx, signed = self._signed(prepared, nonce, fees, self._head(), expected_profit)
        self.store.record_sent(tx)  # before the broadcast: a crash from here on is remembered
        try:
            self._web3.eth.send_raw_transaction(signed.raw)
        except Exception as err:  # noqa: BLE001 - refused by the node: the nonce was never used
            self.store.settle(nonce, DROPPED)
            self.nonces.release(nonce)
            log.warning("%s %s not broadcast: %s", prepared.kind, shown(prepared.target), err)
            return None
        log.info(
            "%s %s broadcast",
            prepared.kind,
            shown(prepared.target),
            extra={"tx": tx.hashes[-1], "nonce": nonce, "max_fee": fees.max_fee, "gas": prepared.gas},
        )
        return tx

    def send_many(self, batch: list[Prepared], fees: Fees, first_fees: Fees | None = None) -> list[SentTx]:
        """Sign each with the next nonce, record them all in one SQLite transaction, then
        broadcast them in one JSON-RPC batch without waiting. A broadcast the node refuses
        leaves a gap in the nonces that would hold back every later one: it is filled at once
        with a zero-value transfer to self (recorded as a `cancel`). `first_fees`, when given,
        are the first transaction's: the rest follow it in nonce order whatever their fees, so
        the first alone decides where in a block the batch starts (behind a pending update)."""
        if not batch:
            return []
        self._check_lease()
        self.nonces.resync(self._next_free_nonce())
        head = self._head()
        txs, raws = [], []
        for i, prepared in enumerate(batch):
            tx, signed = self._signed(prepared, self.nonces.take(), first_fees if first_fees and i == 0 else fees, head)
            txs.append(tx)
            raws.append("0x" + signed.raw.hex())
        self.store.record_sent_many(txs)  # before the broadcast: a crash from here on is remembered
        answers = self.rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws])
        sent = []
        for tx, answer in zip(txs, answers, strict=True):
            if isinstance(answer, RpcError):
                log.warning("%s %s not broadcast: %s", tx.kind, shown(tx.target), answer.message)
                self._fill_gap(tx, fees, head)
            else:
                sent.append(tx)
        log.info("%s transactions broadcast in one batch", len(sent), extra={"nonces": [txs[0].nonce, txs[-1].nonce]})
        return sent

    def _fill_gap(self, refused: SentTx, fees: Fees, head: int) -> None:
        me = self.signer.address
        cancel, signed = self._signed(Prepared("cancel", refused.target, me, "0x", 21_000), refused.nonce, fees, head)
        self.store.record_sent(cancel)
        try:
            self.rpc("eth_sendRawTransaction", ["0x" + signed.raw.hex()])
        except Exception as err:  # noqa: BLE001 - the next settle replaces or drops it
            log.warning("nonce %s left open: %s", refused.nonce, err)

    # ------------------------------------------------------------------ following up

    def settle(self) -> Settled:
        """Close what was mined, drop what another transaction superseded, and replace what has
        been pending too long."""
        out = Settled([], [], [])
        pending = self.store.pending()
        if not pending:
            return out
        head, used = self._head(), self._nonce("latest")
        for tx in pending:
            receipt = self._receipt(tx.hashes)
            if receipt is not None:
                ok = int(receipt["status"]) == 1
                self.store.settle(tx.nonce, MINED if ok else REVERTED)
                if ok:
                    out.mined.append(tx)
                    out.mined_in[tx.nonce] = int(receipt["blockNumber"])
                else:
                    out.reverted.append((tx, self._why_reverted(tx, int(receipt["blockNumber"]))))
            elif tx.nonce < used:
                # The nonce went to a transaction this outbox does not know (sent by hand, say).
                self.store.settle(tx.nonce, DROPPED)
                log.warning(
                    "%s %s superseded: nonce %s was used by another transaction", tx.kind, shown(tx.target), tx.nonce
                )
            elif head - tx.block >= self.replace_after_blocks:
                replacement = self._replace(tx)
                if replacement is not None:
                    out.replaced.append(replacement)
        return out

    def _why_reverted(self, tx: SentTx, block: int) -> Revert:
        """Why a mined transaction reverted: its call replayed on the state its block left (a
        rival's transaction earlier in the block is in it; a hosted node may not trace)."""
        try:
            self._web3.eth.call({"from": self.signer.address, "to": tx.to, "data": tx.data}, block)
        except Exception as err:  # noqa: BLE001 - the revert, as web3 raises it
            return self.reverts.of(err)
        return Revert("", (), f"reverted in block {block}, but its call succeeds after that block (out of gas?)")

    def _replace(self, tx: SentTx) -> SentTx | None:
        self._check_lease()
        try:
            fees = _at_least(bumped(Fees(tx.max_fee, tx.priority_fee), self.max_fee), self.fees_now())
        except FeeCapExceeded as err:
            log.warning("%s %s stuck at nonce %s and not replaced: %s", tx.kind, shown(tx.target), tx.nonce, err)
            return None
        to, data, gas = tx.to, tx.data, tx.gas
        try:
            self._web3.eth.call({"from": self.signer.address, "to": to, "data": data}, "pending")
        except Exception:  # noqa: BLE001 - it would revert now: free the nonce instead
            to, data, gas = str(self.signer.address), "0x", 21_000
            log.info("%s %s would revert now: cancelling nonce %s", tx.kind, shown(tx.target), tx.nonce)
        signed = self._sign(to, data, gas, tx.nonce, fees)
        new = self.store.replaced(tx.nonce, signed.hash, fees.max_fee, fees.priority_fee, self._head())
        try:
            self._web3.eth.send_raw_transaction(signed.raw)
        except Exception as err:  # noqa: BLE001 - e.g. the original was mined meanwhile; next settle sees it
            log.warning("replacement of %s %s not broadcast: %s", tx.kind, shown(tx.target), err)
            return None
        log.info("%s %s replaced", tx.kind, shown(tx.target), extra={"tx": new.hashes[-1], "nonce": tx.nonce})
        return new

    def _check_lease(self) -> None:
        """Nonces are chosen from the node and the shared outbox: right only while no other
        worker sends for this signer, that is while this one holds the lease."""
        if self.lease is not None and not self.lease.held():
            raise LeaseLost(f"the lease on {self.signer.address} is no longer held: nothing sent")

    # ------------------------------------------------------------------ chain access

    def _signed(
        self, prepared: Prepared, nonce: int, fees: Fees, head: int, expected_profit: int = 0
    ) -> tuple[SentTx, Signed]:
        """`prepared` signed at `nonce`, and its outbox record (pending, sent at `head`)."""
        signed = self._sign(prepared.to, prepared.data, prepared.gas, nonce, fees)
        tx = SentTx(
            nonce,
            prepared.kind,
            prepared.target,
            (signed.hash,),
            fees.max_fee,
            fees.priority_fee,
            head,
            expected_profit,
            PENDING,
            prepared.to,
            prepared.data,
            prepared.gas,
        )
        return tx, signed

    def _sign(self, to: str, data: str, gas: int, nonce: int, fees: Fees) -> Signed:
        return self.signer.sign(
            Unsigned(to, data, gas, nonce, fees.max_fee, fees.priority_fee, int(self.chain.chain_id))
        )

    def _receipt(self, hashes: tuple[str, ...]) -> Any:
        for tx_hash in hashes:
            try:
                receipt = self._web3.eth.get_transaction_receipt(tx_hash)
            except Exception:  # noqa: BLE001 - web3 raises TransactionNotFound for "not mined"
                continue
            if receipt is not None:
                return receipt
        return None

    def _next_free_nonce(self) -> int:
        """Past everything the node has seen and everything the outbox still waits on (a
        transaction recorded just before a crash may never have reached the node)."""
        waiting = [tx.nonce + 1 for tx in self.store.pending()]
        return max([self._nonce("pending"), *waiting])

    def _nonce(self, block: str) -> int:
        return int(self._web3.eth.get_transaction_count(self.signer.address, block))

    def _head(self) -> int:
        return int(self.chain.blocks.head.number)

    def _base_fee(self) -> int:
        return int(self.chain.blocks.head.base_fee or 0)


def _at_least(a: Fees, b: Fees) -> Fees:
    return Fees(max(a.max_fee, b.max_fee), max(a.priority_fee, b.priority_fee))
