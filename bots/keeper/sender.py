"""Execution: simulate, sign, broadcast without waiting, and follow every transaction to the end.

Each transaction is written to the store's outbox *before* it is broadcast (its hash is known once
signed), so a keeper that dies at any point neither forgets a transaction in flight nor sends a
second one for the same target after a restart. Every tick settles the outbox: a mined transaction
is closed, and one still pending after `replace_after_blocks` is replaced at the same nonce with
fees raised enough for the network to accept it. A replacement whose call would now revert (a rival
got there first) becomes a zero-value transfer to self instead, so the nonce is freed for the
least gas and nothing reverts on-chain.

Simulations run against the *pending* block, so a transaction already in the node's pool (this
keeper's or a rival's) is seen before anything is sent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bots.keeper.fees import FeeCapExceeded, Fees, NonceTracker, bumped, fees_for
from bots.keeper.store import PENDING, SentTx, Store

log = logging.getLogger("gavel.keeper.sender")

GAS_HEADROOM_BPS = 2_000  # estimates are for the pending block; state may move a little before mining
MINED, REVERTED, DROPPED = "mined", "reverted", "dropped"


@dataclass(frozen=True)
class Prepared:
    """A call that succeeds against the pending block, ready to sign."""

    kind: str
    target: str
    to: str
    data: str  # 0x calldata
    gas: int


@dataclass
class Settled:
    """What settling the outbox found this time."""

    mined: list[SentTx]
    reverted: list[SentTx]
    replaced: list[SentTx]


class Sender:
    def __init__(
        self,
        signer: Any,
        chain: Any,
        store: Store,
        max_fee: int,
        priority_fee: int,
        replace_after_blocks: int,
    ) -> None:
        self.signer, self.chain, self.store = signer, chain, store
        self.max_fee, self.priority_fee, self.replace_after_blocks = max_fee, priority_fee, replace_after_blocks
        self.nonces = NonceTracker(0)

    @property
    def _web3(self) -> Any:
        return self.chain.provider.web3

    # ------------------------------------------------------------------ before sending

    def prepare(self, kind: str, target: str, method: Any, *args: Any) -> Prepared:
        """Simulate `method(*args)` from the signer against the pending block. Raises whatever
        the node raises when it would revert: the caller counts that as a lost race."""
        to, data = str(method.contract.address), "0x" + bytes(method.encode_input(*args)).hex()
        call = {"from": self.signer.address, "to": to, "data": data}
        self._web3.eth.call(call, "pending")
        gas = int(self._web3.eth.estimate_gas(call, "pending"))
        return Prepared(kind, target, to, data, gas + gas * GAS_HEADROOM_BPS // 10_000)

    def gas_price(self) -> int:
        """[wei per gas] what a transaction sent now pays: the base fee plus the keeper's tip."""
        return self._base_fee() + self.priority_fee

    def fees_now(self) -> Fees:
        """Fees for a transaction sent now; FeeCapExceeded when the network is above the cap."""
        return fees_for(self._base_fee(), self.priority_fee, self.max_fee)

    # ------------------------------------------------------------------ sending

    def send(self, prepared: Prepared, fees: Fees, expected_profit: int = 0) -> SentTx | None:
        """Sign and broadcast; None when the node refused the broadcast (nothing is left pending)."""
        self.nonces.resync(self._next_free_nonce())
        nonce = self.nonces.take()
        signed = self._sign(prepared.to, prepared.data, prepared.gas, nonce, fees)
        tx = SentTx(
            nonce,
            prepared.kind,
            prepared.target,
            (_hash(signed),),
            fees.max_fee,
            fees.priority_fee,
            self._head(),
            expected_profit,
            PENDING,
            prepared.to,
            prepared.data,
            prepared.gas,
        )
        self.store.record_sent(tx)  # before the broadcast: a crash from here on is remembered
        try:
            self._web3.eth.send_raw_transaction(bytes(signed.serialize_transaction()))
        except Exception as err:  # noqa: BLE001 - refused by the node: the nonce was never used
            self.store.settle(nonce, DROPPED)
            self.nonces.release(nonce)
            log.warning("%s %s not broadcast: %s", prepared.kind, prepared.target, err)
            return None
        log.info(
            "%s %s broadcast",
            prepared.kind,
            prepared.target,
            extra={"tx": tx.hashes[-1], "nonce": nonce, "max_fee": fees.max_fee, "gas": prepared.gas},
        )
        return tx

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
                (out.mined if ok else out.reverted).append(tx)
                if not ok:
                    log.warning("%s %s reverted on-chain in block %s", tx.kind, tx.target, receipt["blockNumber"])
            elif tx.nonce < used:
                # The nonce went to a transaction this outbox does not know (sent by hand, say).
                self.store.settle(tx.nonce, DROPPED)
                log.warning("%s %s superseded: nonce %s was used by another transaction", tx.kind, tx.target, tx.nonce)
            elif head - tx.block >= self.replace_after_blocks:
                replacement = self._replace(tx)
                if replacement is not None:
                    out.replaced.append(replacement)
        return out

    def _replace(self, tx: SentTx) -> SentTx | None:
        try:
            fees = _at_least(bumped(Fees(tx.max_fee, tx.priority_fee), self.max_fee), self.fees_now())
        except FeeCapExceeded as err:
            log.warning("%s %s stuck at nonce %s and not replaced: %s", tx.kind, tx.target, tx.nonce, err)
            return None
        to, data, gas = tx.to, tx.data, tx.gas
        try:
            self._web3.eth.call({"from": self.signer.address, "to": to, "data": data}, "pending")
        except Exception:  # noqa: BLE001 - it would revert now: free the nonce instead
            to, data, gas = str(self.signer.address), "0x", 21_000
            log.info("%s %s would revert now: cancelling nonce %s", tx.kind, tx.target, tx.nonce)
        signed = self._sign(to, data, gas, tx.nonce, fees)
        new = self.store.replaced(tx.nonce, _hash(signed), fees.max_fee, fees.priority_fee, self._head())
        try:
            self._web3.eth.send_raw_transaction(bytes(signed.serialize_transaction()))
        except Exception as err:  # noqa: BLE001 - e.g. the original was mined meanwhile; next settle sees it
            log.warning("replacement of %s %s not broadcast: %s", tx.kind, tx.target, err)
            return None
        log.info("%s %s replaced", tx.kind, tx.target, extra={"tx": new.hashes[-1], "nonce": tx.nonce})
        return new

    # ------------------------------------------------------------------ chain access

    def _sign(self, to: str, data: str, gas: int, nonce: int, fees: Fees) -> Any:
        txn = self.chain.provider.network.ecosystem.create_transaction(
            receiver=to,
            data=data,
            gas_limit=gas,
            nonce=nonce,
            max_fee=fees.max_fee,
            max_priority_fee=fees.priority_fee,
            chain_id=self.chain.chain_id,
            sender=self.signer.address,
            type=2,
        )
        return self.signer.sign_transaction(txn)

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


def _hash(signed: Any) -> str:
    return "0x" + bytes(signed.txn_hash).hex()
