"""Signing EIP-1559 transactions in-process and fast: RLP and keccak here, secp256k1 in
coincurve's C library. A crash's thousand kicks are signed in tens of milliseconds (Ape's path
through its transaction models takes about 3 ms each; eth-account's, 0.3 ms).

The key comes from the Ape account the keeper was given and stays in memory; it is never logged.
An account that does not expose its key (a hardware wallet, a keyfile Ape keeps locked) signs
through Ape instead, slower but the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import rlp
from coincurve import PrivateKey
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak

EIP1559 = b"\x02"


@dataclass(frozen=True)
class Signed:
    raw: bytes  # what eth_sendRawTransaction takes
    hash: str  # 0x-prefixed transaction hash


@dataclass(frozen=True)
class Unsigned:
    to: str
    data: str  # 0x calldata
    gas: int
    nonce: int
    max_fee: int  # [wei per gas]
    priority_fee: int  # [wei per gas]
    chain_id: int
    value: int = 0


class Signer(Protocol):
    address: str

    def sign(self, tx: Unsigned) -> Signed: ...


class LocalSigner:
    def __init__(self, private_key: bytes) -> None:
        self._key = PrivateKey(private_key)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address: str = to_checksum_address(keccak(public)[12:])

    def __repr__(self) -> str:  # never the key
        return f"LocalSigner({self.address})"

    def sign(self, tx: Unsigned) -> Signed:
        fields = [
            tx.chain_id,
            tx.nonce,
            tx.priority_fee,
            tx.max_fee,
            tx.gas,
            to_canonical_address(tx.to),
            tx.value,
            bytes.fromhex(tx.data[2:]),
            [],  # access list
        ]
        signature = self._key.sign_recoverable(keccak(EIP1559 + rlp.encode(fields)), hasher=None)
        r, s, y_parity = signature[:32], signature[32:64], signature[64]
        raw = EIP1559 + rlp.encode([*fields, y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big")])
        return Signed(raw, "0x" + keccak(raw).hex())


class ApeSigner:
    """Any Ape account, through Ape's own signing (which may ask its owner to confirm)."""

    def __init__(self, account: Any, ecosystem: Any) -> None:
        self.account, self.ecosystem = account, ecosystem
        self.address = str(account.address)

    def sign(self, tx: Unsigned) -> Signed:
        txn = self.ecosystem.create_transaction(
            receiver=tx.to,
            data=tx.data,
            gas_limit=tx.gas,
            nonce=tx.nonce,
            max_fee=tx.max_fee,
            max_priority_fee=tx.priority_fee,
            chain_id=tx.chain_id,
            sender=self.address,
            value=tx.value,
            type=2,
        )
        signed = self.account.sign_transaction(txn)
        if signed is None:
            raise PermissionError(f"{self.address} declined to sign")
        return Signed(bytes(signed.serialize_transaction()), "0x" + bytes(signed.txn_hash).hex())


def signer_for(account: Any, ecosystem: Any) -> Signer:
    """A LocalSigner when the Ape account holds its key in memory (test accounts, and any
    account whose `private_key` Ape hands out), otherwise signing through Ape."""
    try:
        key = account.private_key
    except Exception:  # noqa: BLE001 - locked keyfiles and hardware wallets refuse
        key = None
    if isinstance(key, str | bytes) and key:
        raw = bytes.fromhex(key[2:] if key.startswith("0x") else key) if isinstance(key, str) else key
        return LocalSigner(raw)
    return ApeSigner(account, ecosystem)
