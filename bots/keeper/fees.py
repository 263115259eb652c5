"""EIP-1559 fees with a cap, the bump that replaces a stuck transaction, and the keeper's own
nonce counter. Pure; amounts in wei."""

from __future__ import annotations

from dataclasses import dataclass

from bots.keeper.errors import KeeperError

REPLACEMENT_BUMP_BPS = 1_250  # nodes accept a replacement only if both fees rise by >= 10%; 12.5% is safe


class FeeCapExceeded(KeeperError):
    """The fee the network needs now is above the keeper's cap; nothing is sent."""


@dataclass(frozen=True)
class Fees:
    max_fee: int  # [wei per gas]
    priority_fee: int  # [wei per gas]


BASE_FEE_RISE = 1.125  # the most the base fee can rise per full block (EIP-1559)


def fees_for(base_fee: int, priority_fee: int, cap: int, full_blocks: int = 0) -> Fees:
    """max fee = 2 * base fee + tip (room for about six full blocks of base-fee rises), or more
    when the transactions sent together will take `full_blocks` full blocks to mine (a crash's
    kicks): the last of them must still be valid after the base fee rose in every one. Capped;
    refuses when even the base fee plus the tip is above the cap."""
    if base_fee + priority_fee > cap:
        raise FeeCapExceeded(f"base fee {base_fee} + tip {priority_fee} wei is above the cap of {cap} wei")
    rises = -(-base_fee * int(BASE_FEE_RISE**full_blocks * 1_000_000) // 1_000_000)
    return Fees(min(max(2 * base_fee, rises) + priority_fee, cap), priority_fee)


def bumped(fees: Fees, cap: int) -> Fees:
    """The fees of a replacement: both raised by 12.5% (at least 1 wei). Refuses when the cap
    leaves no room for a replacement the network would accept."""
    priority = fees.priority_fee + max(1, -(-fees.priority_fee * REPLACEMENT_BUMP_BPS // 10_000))
    max_fee = fees.max_fee + max(1, -(-fees.max_fee * REPLACEMENT_BUMP_BPS // 10_000))
    if max_fee > cap:
        raise FeeCapExceeded(f"replacing needs a max fee of {max_fee} wei, above the cap of {cap} wei")
    return Fees(max_fee, min(priority, max_fee))


class NonceTracker:
    """The keeper's own nonce counter, so it can send several transactions per block without
    waiting for the node, and reuse a nonce only to replace a stuck transaction."""

    def __init__(self, chain_nonce: int) -> None:
        self._next = chain_nonce

    def take(self) -> int:
        nonce, self._next = self._next, self._next + 1
        return nonce

    def release(self, nonce: int) -> None:
        """Give back a nonce whose transaction never reached the network (it was the last taken)."""
        if nonce == self._next - 1:
            self._next = nonce

    def resync(self, chain_nonce: int) -> None:
        """After a restart or an error: never below what the chain has seen."""
        self._next = max(self._next, chain_nonce)

    @property
    def next(self) -> int:
        return self._next
