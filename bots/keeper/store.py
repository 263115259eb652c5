"""The keeper's durable state in SQLite: the event-sourced mirror of every account, the block it
is complete up to (the checkpoint), and the transactions the keeper has sent.

Every write of a block's updates and its checkpoint is one SQLite transaction: after a crash the
mirror is either at the old checkpoint or the new one, never between. Amounts are stored as
decimal text because they exceed SQLite's 64-bit integers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bots.keeper.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collateral (
    account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (account, asset)
);
CREATE TABLE IF NOT EXISTS debt (account TEXT PRIMARY KEY, scaled TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sent (
    kind TEXT NOT NULL, target TEXT NOT NULL, tx_hash TEXT NOT NULL, nonce INTEGER NOT NULL,
    block INTEGER NOT NULL, PRIMARY KEY (kind, target)
);
"""


@dataclass(frozen=True)
class CollateralSet:
    """An account's balance of one collateral asset is now `amount` [collateral decimals]."""

    account: str
    asset: str
    amount: int


@dataclass(frozen=True)
class DebtSet:
    """An account's scaled debt is now `scaled` [debt decimals at index 1]."""

    account: str
    scaled: int


Update = CollateralSet | DebtSet

# Vault events that carry an account's resulting balance, and the argument holding it.
COLLATERAL_EVENTS = {"CollateralSupplied", "CollateralWithdrawn", "CollateralSeized", "CollateralReturned"}
DEBT_EVENTS = {"Borrowed", "Repaid", "Liquidated"}


def update_from_event(name: str, args: dict[str, object]) -> Update | None:
    """The mirror update a Vault event implies, or None for events that move no account."""
    if name in COLLATERAL_EVENTS:
        return CollateralSet(str(args["account"]), str(args["asset"]), int(str(args["balance"])))
    if name in DEBT_EVENTS:
        return DebtSet(str(args["account"]), int(str(args["scaledDebt"])))
    return None


@dataclass(frozen=True)
class Checkpoint:
    block: int  # the mirror holds every event up to and including this block
    hash: str  # that block's hash, to notice a reorg beneath it


class Store:
    """One deployment's mirror. Opening a file made for another chain or Vault is refused."""

    def __init__(self, path: Path, chain_id: int, vault: str, start_block: int) -> None:
        self.path = path
        try:
            # Transactions are explicit. The connection may be used from another thread than the
            # one that opened it (Silverback runs tasks in a pool); Keeper.tick serialises use.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path} is not a usable keeper database: {err}") from err
        expected = {"chain_id": str(chain_id), "vault": vault.lower(), "start_block": str(start_block)}
        found = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('chain_id', 'vault', 'start_block')"))
        if not found:
            with self._transaction():
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", expected.items())
        elif found != expected:
            wrong = ", ".join(f"{k} is {found.get(k)} not {v}" for k, v in expected.items() if found.get(k) != v)
            raise StoreError(f"{path} belongs to another deployment ({wrong}); use another --database or delete it")
        self.start_block = start_block

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def checkpoint(self) -> Checkpoint | None:
        rows = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('block', 'hash')"))
        return Checkpoint(int(rows["block"]), rows["hash"]) if "block" in rows else None

    def next_block(self) -> int:
        """Where indexing resumes: after the checkpoint, or at the deployment's start block."""
        checkpoint = self.checkpoint()
        return checkpoint.block + 1 if checkpoint else self.start_block

    def apply(self, updates: Iterable[Update], checkpoint: Checkpoint) -> None:
        """Apply updates (in event order) and move the checkpoint, all or nothing."""
        current = self.checkpoint()
        if current is not None and checkpoint.block < current.block:
            raise StoreError(f"checkpoint would move back from {current.block} to {checkpoint.block}")
        with self._transaction():
            for update in updates:
                if isinstance(update, CollateralSet):
                    self._db.execute(
                        "INSERT OR REPLACE INTO collateral VALUES (?, ?, ?)",
                        (update.account.lower(), update.asset.lower(), str(update.amount)),
                    )
                elif isinstance(update, DebtSet):
                    self._db.execute(
                        "INSERT OR REPLACE INTO debt VALUES (?, ?)", (update.account.lower(), str(update.scaled))
                    )
                else:
                    raise StoreError(f"not a mirror update: {update!r}")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('block', ?)", (str(checkpoint.block),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('hash', ?)", (checkpoint.hash,))

    def reset(self) -> None:
        """Forget the mirror and the checkpoint (after a reorg below the checkpoint): indexing
        starts again from the deployment's start block. The sent-transaction log is kept."""
        with self._transaction():
            self._db.execute("DELETE FROM collateral")
            self._db.execute("DELETE FROM debt")
            self._db.execute("DELETE FROM meta WHERE key IN ('block', 'hash')")

    def positions(self) -> dict[str, tuple[dict[str, int], int]]:
        """{account: ({asset: amount}, scaled debt)} for every account the mirror has seen."""
        out: dict[str, tuple[dict[str, int], int]] = {}
        for account, scaled in self._db.execute("SELECT account, scaled FROM debt"):
            out[account] = ({}, int(scaled))
        for account, asset, amount in self._db.execute("SELECT account, asset, amount FROM collateral"):
            out.setdefault(account, ({}, 0))[0][asset] = int(amount)
        return out

    def record_sent(self, kind: str, target: str, tx_hash: str, nonce: int, block: int) -> None:
        """Remember a transaction before waiting on it, so a restart does not send it twice."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO sent VALUES (?, ?, ?, ?, ?)", (kind, target.lower(), tx_hash, nonce, block)
            )

    def sent(self, kind: str, target: str) -> tuple[str, int, int] | None:
        """(tx hash, nonce, block sent at) of the last `kind` transaction for `target`, if any."""
        row = self._db.execute(
            "SELECT tx_hash, nonce, block FROM sent WHERE kind = ? AND target = ?", (kind, target.lower())
        ).fetchone()
        return (row[0], int(row[1]), int(row[2])) if row else None

    def forget_sent(self, kind: str, target: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM sent WHERE kind = ? AND target = ?", (kind, target.lower()))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
