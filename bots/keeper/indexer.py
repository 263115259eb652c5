"""Builds the keeper's mirror of every account from the Vault's events, and of every live
auction from the liquidator's (the chain keeps no list of them).

Only blocks at least `confirmations` behind the head are indexed, so an ordinary reorg never
reaches the mirror. A deeper one is noticed by the checkpoint's block hash changing; the mirror
is then rebuilt from the deployment's start block. Each batch of blocks is applied with its
checkpoint in one SQLite transaction, so a stop at any moment resumes from the checkpoint.

The chain itself may be replaced under the keeper: a local Anvil restarted without its state,
Gavel redeployed at the same (deterministic) addresses, from another block. Its block 0 is
another block, so the mirror is rebuilt from the redeployment's start block (the deployment
record, read again). A node that now serves another chain id stops the keeper."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bots.keeper.errors import ChainChanged
from bots.keeper.eventlogs import Event, EventDecoder, LogFetcher, Request
from bots.keeper.store import (
    AUCTION_EVENTS,
    COLLATERAL_EVENTS,
    DEBT_EVENTS,
    Checkpoint,
    Store,
    Update,
    update_from_event,
)

log = logging.getLogger("gavel.keeper.indexer")

INDEXED_EVENTS = tuple(sorted(COLLATERAL_EVENTS | DEBT_EVENTS))
INDEXED_AUCTION_EVENTS = tuple(sorted(AUCTION_EVENTS))


class ChainView(Protocol):
    """What the indexer needs from the chain (Ape's chain manager provides it)."""

    def chain_id(self) -> int: ...

    def head_number(self) -> int: ...

    def block_hash(self, number: int) -> str: ...

    def logs(self, start: int, stop: int) -> list[Any]: ...


class ApeChainView:
    """ChainView over Ape's connected provider: `chain` is ape.chain, `vault` the Vault contract
    instance and `liquidator` the liquidator's (None: accounts only). Logs come from raw
    `eth_getLogs` (see eventlogs); `request` replaces the provider's JSON-RPC call (a test points
    it at a server that refuses large answers)."""

    def __init__(
        self, chain: Any, vault: Any, liquidator: Any = None, request: Request | None = None, max_span: int = 2_000
    ) -> None:
        self.chain, self.vault, self.liquidator = chain, vault, liquidator
        contracts = [vault] if liquidator is None else [vault, liquidator]
        wanted = set(INDEXED_EVENTS) | (set(INDEXED_AUCTION_EVENTS) if liquidator is not None else set())
        abis = [e for c in contracts for e in c.contract_type.events if e.name in wanted]
        self.request = request or chain.provider.make_request
        self.fetcher = LogFetcher(self.request, [str(c.address) for c in contracts], EventDecoder(abis), max_span)

    def chain_id(self) -> int:
        """Asked of the node every time (Ape's `chain.chain_id` is read once per connection)."""
        answer = self.request("eth_chainId", [])
        return answer if isinstance(answer, int) else int(str(answer), 16)

    def head_number(self) -> int:
        return int(self.chain.blocks.head.number)

    def block_hash(self, number: int) -> str:
        return str(self.chain.blocks[number].hash.hex())

    def logs(self, start: int, stop: int) -> list[Event]:
        return self.fetcher.logs(start, stop)


@dataclass(frozen=True)
class SyncResult:
    checkpoint: int  # last block in the mirror
    head: int
    events: int  # applied this sync
    rebuilt: bool  # a reorg below the checkpoint, or a replaced chain, forced a rebuild

    @property
    def lag(self) -> int:
        return self.head - self.checkpoint


class Indexer:
    """`redeployed_at` gives the block to index from once the chain was replaced (it reads the
    deployment record again, or raises DeploymentPending until Gavel is there); by default the
    store's start block."""

    def __init__(
        self,
        store: Store,
        view: ChainView,
        confirmations: int,
        batch_blocks: int = 2_000,
        redeployed_at: Callable[[], int] | None = None,
    ) -> None:
        self.store, self.view = store, view
        self.confirmations, self.batch_blocks = confirmations, batch_blocks
        self.redeployed_at = redeployed_at or (lambda: self.store.start_block)
        self._genesis_checked = False  # once per process, and again whenever the checkpoint is lost

    def _checkpoint_still_canonical(self) -> bool:
        checkpoint = self.store.checkpoint()
        if checkpoint is None:
            return True
        if checkpoint.block > self.view.head_number():  # the chain got shorter beneath us
            return False
        return self.view.block_hash(checkpoint.block) == checkpoint.hash

    def _check_chain_id(self) -> None:
        live = self.view.chain_id()
        if live != self.store.chain_id:
            raise ChainChanged(f"chain id is now {live}, the keeper indexed {self.store.chain_id}: stopping")

    def _rebuild_if_not_the_same_chain(self) -> bool:
        """Rebuild the mirror when the checkpoint's block is no longer on the chain: from the
        deployment's start block after a reorg, from the redeployment's when block 0 changed too
        (the chain was replaced). True when the mirror was rebuilt."""
        canonical = self._checkpoint_still_canonical()
        if canonical and self._genesis_checked:
            return False
        genesis, known = self.view.block_hash(0), self.store.genesis()
        if known is not None and genesis != known:
            start = self.redeployed_at()
            log.warning(
                "the chain was replaced (its block 0 is %s, the mirror's was %s): rebuilding the mirror from "
                "block %s, where Gavel was deployed again",
                genesis,
                known,
                start,
            )
            self.store.rebase(start, genesis)
            self._genesis_checked = True
            return True
        if known is None:
            self.store.remember_genesis(genesis)
        self._genesis_checked = True
        if canonical:
            return False
        log.warning("reorg below the checkpoint %s: rebuilding the mirror", self.store.checkpoint())
        self.store.reset()
        return True

    def sync(self, on_updates: Callable[[list[Update]], None] | None = None) -> SyncResult:
        """Index every confirmed block not yet in the mirror. `on_updates` hears each batch of
        updates once it is committed (the keeper's in-memory risk book follows the store so).
        ChainChanged when the node now serves another chain id."""
        self._check_chain_id()
        rebuilt = self._rebuild_if_not_the_same_chain()
        head = self.view.head_number()
        safe = head - self.confirmations
        start, applied = self.store.next_block(), 0
        while start <= safe:
            stop = min(start + self.batch_blocks - 1, safe)
            updates: list[Update] = []
            for entry in self.view.logs(start, stop):
                update = update_from_event(entry.event_name, dict(entry.event_arguments))
                if update is not None:
                    updates.append(update)
            self.store.apply(updates, Checkpoint(stop, self.view.block_hash(stop)))
            if on_updates is not None and updates:
                on_updates(updates)
            applied += len(updates)
            start = stop + 1
        checkpoint = self.store.checkpoint()
        return SyncResult(checkpoint.block if checkpoint else self.store.start_block - 1, head, applied, rebuilt)
