"""The keeper's durable state in SQLite: the event-sourced mirror of every account, the block it
is complete up to (the checkpoint), and the transactions the keeper has sent.

The mirror is one market's (one Vault's). The outbox is the signer's: every transaction it sent,
by nonce, tagged with the market it was for. Keepers of several markets (or several workers)
signing with one key share one outbox, by default in the first market's file: each attaches it,
so a nonce is never taken twice and a transaction in flight is never sent again by another.

Every write of a block's updates and its checkpoint is one SQLite transaction: after a crash the
mirror is either at the old checkpoint or the new one, never between. Amounts are stored as
decimal text because they exceed SQLite's 64-bit integers."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bots.keeper.errors import StoreError

log = logging.getLogger("gavel.keeper.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collateral (
    account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL, block INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, asset)
);
CREATE TABLE IF NOT EXISTS debt (account TEXT PRIMARY KEY, scaled TEXT NOT NULL, block INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS collateral_block ON collateral (block);
CREATE INDEX IF NOT EXISTS debt_block ON debt (block);
CREATE TABLE IF NOT EXISTS auction (id TEXT PRIMARY KEY, account TEXT NOT NULL, collateral TEXT NOT NULL);
"""
OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS {db}.outbox (
    nonce INTEGER PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, hashes TEXT NOT NULL,
    max_fee TEXT NOT NULL, priority_fee TEXT NOT NULL, block INTEGER NOT NULL, expected_profit TEXT NOT NULL,
    status TEXT NOT NULL, recipient TEXT NOT NULL, data TEXT NOT NULL, gas INTEGER NOT NULL,
    market TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS {db}.outbox_target ON outbox (kind, target, status);
"""
OUTBOX_COLUMNS = (
    "nonce, kind, target, hashes, max_fee, priority_fee, block, expected_profit, status, recipient, data, gas"
)

PENDING, DROPPED = "pending", "dropped"


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


@dataclass(frozen=True)
class AuctionOpened:
    """The liquidator started auction `id` of `account`'s `collateral` (a kick or a fund sale)."""

    id: int
    account: str
    collateral: str


@dataclass(frozen=True)
class AuctionClosed:
    """Auction `id` ended (sold out, tab raised, or its dust lot written off)."""

    id: int


Update = CollateralSet | DebtSet | AuctionOpened | AuctionClosed

# Vault events that carry an account's resulting balance, and the argument holding it.
COLLATERAL_EVENTS = {"CollateralSupplied", "CollateralWithdrawn", "CollateralSeized", "CollateralReturned"}
DEBT_EVENTS = {"Borrowed", "Repaid", "Liquidated", "DebtReturned", "DebtRealized"}
# Liquidator events that open and close auctions: the chain keeps no list of live ones.
AUCTION_EVENTS = {"Kick", "AuctionEnded"}


def update_from_event(name: str, args: dict[str, object]) -> Update | None:
    """The mirror update a Vault or liquidator event implies, or None for events that move no
    account and open or close no auction."""
    if name in COLLATERAL_EVENTS:
        return CollateralSet(str(args["account"]), str(args["collateral"]), int(str(args["balance"])))
    if name in DEBT_EVENTS:
        return DebtSet(str(args["account"]), int(str(args["scaledDebt"])))
    if name == "Kick":
        return AuctionOpened(int(str(args["id"])), str(args["account"]), str(args["collateral"]))
    if name == "AuctionEnded":
        return AuctionClosed(int(str(args["id"])))
    return None


@dataclass(frozen=True)
class SentTx:
    """A transaction the keeper signed and broadcast, by nonce. `hashes` holds the original and
    every replacement (newest last): any one of them may be the one that is mined."""

    nonce: int
    kind: str  # kick | take | redo
    target: str  # the account kicked, or the auction id
    hashes: tuple[str, ...]
    max_fee: int  # [wei per gas] of the newest
    priority_fee: int  # [wei per gas] of the newest
    block: int  # head when the newest was broadcast
    expected_profit: int  # [debt decimals] what a take planned to earn; 0 otherwise
    status: str  # pending | mined | reverted | dropped
    to: str  # the call, kept so a replacement can re-sign it
    data: str
    gas: int
    market: str = ""  # the Vault it was for (lower-case); "" for a record made before markets were tagged


@dataclass(frozen=True)
class Checkpoint:
    block: int  # the mirror holds every event up to and including this block
    hash: str  # that block's hash, to notice a reorg beneath it


class Store:
    """One deployment's mirror, and the signer's outbox (in this file, or in `outbox`, another
    market's file). Opening a file made for another chain or Vault is refused."""

    def __init__(self, path: Path, chain_id: int, vault: str, start_block: int, outbox: Path | None = None) -> None:
        self.path, self.market = path, vault.lower()
        shared = outbox is not None and Path(outbox).resolve() != Path(path).resolve()
        try:
            # Transactions are explicit. The connection may be used from another thread than the
            # one that opened it (Silverback runs tasks in a pool); Keeper.tick serialises use.
            # Other processes may hold the shared outbox: wait for their writes, not fail.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._migrate_mirror()
            self._db.executescript(SCHEMA)
            if shared:
                self._db.execute("ATTACH DATABASE ? AS shared", (str(outbox),))
            self._db.executescript(OUTBOX_SCHEMA.format(db="shared" if shared else "main"))
            self._migrate_outbox("shared" if shared else "main")
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path} is not a usable keeper database: {err}") from err
        # Unqualified, `outbox` names main's table when there is one: name the shared one.
        self._outbox = "shared.outbox" if shared else "outbox"
        self.chain_id, self.start_block = chain_id, start_block
        expected = {"chain_id": str(chain_id), "vault": vault.lower(), "start_block": str(start_block)}
        found = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('chain_id', 'vault', 'start_block')"))
        if not found:
            with self._transaction():
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", expected.items())
            return
        wrong = ", ".join(f"{k} is {found.get(k)} not {v}" for k, v in expected.items() if found.get(k) != v)
        if found.get("chain_id") != expected["chain_id"] or found.get("vault") != expected["vault"]:
            raise StoreError(
                f"{path} holds the mirror of another deployment ({wrong}): delete {path}, or point `database` "
                "(--database on the CLI, GAVEL_KEEPER_DATABASE) at another file"
            )
        if wrong:
            # The same Vault address on the same chain id from another block: Anvil restarted and
            # Gavel redeployed at its deterministic addresses. The old mirror is of a chain that is gone.
            log.warning("%s is of an earlier chain (%s): rebuilding the mirror from block %s", path, wrong, start_block)
            self.rebase(start_block, genesis=None)

    def close(self) -> None:
        self._db.close()

    def _migrate_mirror(self) -> None:
        """A file from before changes were dated gains the column (its rows count as block 0)."""
        for table in ("collateral", "debt"):
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if columns and "block" not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN block INTEGER NOT NULL DEFAULT 0")

    def _migrate_outbox(self, db: str) -> None:
        """A file from before markets were tagged gains the column (its rows keep "")."""
        columns = {row[1] for row in self._db.execute(f"PRAGMA {db}.table_info(outbox)")}
        if "market" not in columns:
            self._db.execute(f"ALTER TABLE {db}.outbox ADD COLUMN market TEXT NOT NULL DEFAULT ''")

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
                        "INSERT OR REPLACE INTO collateral VALUES (?, ?, ?, ?)",
                        (update.account.lower(), update.asset.lower(), str(update.amount), checkpoint.block),
                    )
                elif isinstance(update, DebtSet):
                    self._db.execute(
                        "INSERT OR REPLACE INTO debt VALUES (?, ?, ?)",
                        (update.account.lower(), str(update.scaled), checkpoint.block),
                    )
                elif isinstance(update, AuctionOpened):
                    self._db.execute(
                        "INSERT OR REPLACE INTO auction VALUES (?, ?, ?)",
                        (str(update.id), update.account.lower(), update.collateral.lower()),
                    )
                elif isinstance(update, AuctionClosed):
                    self._db.execute("DELETE FROM auction WHERE id = ?", (str(update.id),))
                else:
                    raise StoreError(f"not a mirror update: {update!r}")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('block', ?)", (str(checkpoint.block),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('hash', ?)", (checkpoint.hash,))

    def reset(self) -> None:
        """Forget the mirror and the checkpoint (after a reorg below the checkpoint): indexing
        starts again from the deployment's start block. The outbox is kept. The generation
        moves on, so another process reading this mirror knows to reload it whole."""
        with self._transaction():
            self._forget_mirror()

    def _forget_mirror(self) -> None:
        self._db.execute("DELETE FROM collateral")
        self._db.execute("DELETE FROM debt")
        self._db.execute("DELETE FROM auction")
        self._db.execute("DELETE FROM meta WHERE key IN ('block', 'hash')")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self.generation() + 1),))

    def rebase(self, start_block: int, genesis: str | None) -> None:
        """Forget a mirror of a chain that was replaced (another genesis, Gavel redeployed at the
        same addresses): indexing starts again from the redeployment's `start_block`. The
        transactions still pending in the outbox were sent to the old chain and are gone with it:
        they are marked dropped, so their nonces and targets are free again."""
        with self._transaction():
            self._forget_mirror()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('start_block', ?)", (str(start_block),))
            self._db.execute("DELETE FROM meta WHERE key = 'genesis'")
            if genesis is not None:
                self._db.execute("INSERT INTO meta VALUES ('genesis', ?)", (genesis,))
            self._db.execute(f"UPDATE {self._outbox} SET status = ? WHERE status = ?", (DROPPED, PENDING))
        self.start_block = start_block

    def genesis(self) -> str | None:
        """The hash of block 0 of the chain this mirror indexes (None: not yet known)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        return str(row[0]) if row else None

    def remember_genesis(self, genesis: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('genesis', ?)", (genesis,))

    def generation(self) -> int:
        """How many times the mirror was reset (a reorg below its checkpoint)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def positions(self, changed_after: int = -1) -> dict[str, tuple[dict[str, int], int]]:
        """{account: ({asset: amount}, scaled debt)} for every account the mirror has seen, or only
        those whose collateral or debt changed in a block after `changed_after` (what another
        process sharing this mirror indexed since this one last looked)."""
        out: dict[str, tuple[dict[str, int], int]] = {}
        if changed_after >= 0:
            accounts = "SELECT account FROM debt WHERE block > ?1 UNION SELECT account FROM collateral WHERE block > ?1"
            debts = self._db.execute(
                f"SELECT account, scaled FROM debt WHERE account IN ({accounts})", (changed_after,)
            )
            held = self._db.execute(
                f"SELECT account, asset, amount FROM collateral WHERE account IN ({accounts})", (changed_after,)
            )
        else:
            debts = self._db.execute("SELECT account, scaled FROM debt")
            held = self._db.execute("SELECT account, asset, amount FROM collateral")
        for account, scaled in debts:
            out[account] = ({}, int(scaled))
        for account, asset, amount in held:
            out.setdefault(account, ({}, 0))[0][asset] = int(amount)
        return out

    def live_auctions(self) -> list[tuple[int, str, str]]:
        """(id, account, collateral) of every auction opened and not yet ended, oldest first."""
        rows = self._db.execute("SELECT id, account, collateral FROM auction ORDER BY rowid")
        return [(int(auction_id), account, collateral) for auction_id, account, collateral in rows]

    # ------------------------------------------------------------------ the outbox

    def record_sent(self, tx: SentTx) -> None:
        """Remember a transaction as soon as it is broadcast, so a restart neither sends it twice
        nor forgets to watch it."""
        self.record_sent_many([tx])

    def record_sent_many(self, txs: list[SentTx]) -> None:
        """Remember transactions about to be broadcast, all in one SQLite transaction; a record
        without a market is this store's."""
        rows = [
            (
                tx.nonce,
                tx.kind,
                tx.target.lower(),
                ",".join(tx.hashes),
                str(tx.max_fee),
                str(tx.priority_fee),
                tx.block,
                str(tx.expected_profit),
                tx.status,
                tx.to,
                tx.data,
                tx.gas,
                tx.market or self.market,
            )
            for tx in txs
        ]
        with self._transaction():
            self._db.executemany(
                f"INSERT OR REPLACE INTO {self._outbox} ({OUTBOX_COLUMNS}, market) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def replaced(self, nonce: int, tx_hash: str, max_fee: int, priority_fee: int, block: int) -> SentTx:
        """Record a replacement broadcast for the pending transaction at `nonce`."""
        old = self._outbox_row(nonce)
        new = replace(old, hashes=(*old.hashes, tx_hash), max_fee=max_fee, priority_fee=priority_fee, block=block)
        self.record_sent(new)
        return new

    def settle(self, nonce: int, status: str) -> None:
        with self._transaction():
            self._db.execute(f"UPDATE {self._outbox} SET status = ? WHERE nonce = ?", (status, nonce))

    def pending(self) -> list[SentTx]:
        """Every transaction of the signer's not yet known to be mined or dropped, for any
        market, oldest nonce first (nonces are the signer's, not a market's)."""
        rows = self._db.execute(
            f"SELECT {OUTBOX_COLUMNS}, market FROM {self._outbox} WHERE status = ? ORDER BY nonce", (PENDING,)
        )
        return [_sent_tx(row) for row in rows]

    def pending_for(self, kind: str, target: str) -> SentTx | None:
        """This market's pending `kind` transaction for `target`, if there is one."""
        row = self._db.execute(
            f"SELECT {OUTBOX_COLUMNS}, market FROM {self._outbox} "
            "WHERE kind = ? AND target = ? AND status = ? AND market IN (?, '') ORDER BY nonce DESC",
            (kind, target.lower(), PENDING, self.market),
        ).fetchone()
        return _sent_tx(row) if row else None

    def pending_targets(self, kind: str) -> set[str]:
        """Targets (lower-case) of this market's pending `kind` transactions."""
        rows = self._db.execute(
            f"SELECT target FROM {self._outbox} WHERE kind = ? AND status = ? AND market IN (?, '')",
            (kind, PENDING, self.market),
        )
        return {str(target) for (target,) in rows}

    def _outbox_row(self, nonce: int) -> SentTx:
        row = self._db.execute(
            f"SELECT {OUTBOX_COLUMNS}, market FROM {self._outbox} WHERE nonce = ?", (nonce,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no transaction with nonce {nonce} in the outbox")
        return _sent_tx(row)


def _sent_tx(row: tuple[object, ...]) -> SentTx:
    nonce, kind, target, hashes, max_fee, priority_fee, block, profit, status, to, data, gas, market = row
    return SentTx(
        int(str(nonce)),
        str(kind),
        str(target),
        tuple(str(hashes).split(",")),
        int(str(max_fee)),
        int(str(priority_fee)),
        int(str(block)),
        int(str(profit)),
        str(status),
        str(to),
        str(data),
        int(str(gas)),
        str(market),
    )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
