"""The document store: one SQLite database (WAL) per collection.

It is the source of truth: a document exists when its row is committed here.
The keyword and vector indexes may hold extra entries after a crash (keys that
were being written, or deleted keys not yet purged); searches drop any key that
is not live here, and the next writer purges them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textlens.corpus.document import Document
from textlens.errors import TextlensError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, parent TEXT, title TEXT NOT NULL,
    text TEXT NOT NULL, metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_parent ON docs (parent);
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, first_key INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (key INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS fields (name TEXT PRIMARY KEY);
"""


class DocStore:
    """Documents by integer key, plus the collection's bookkeeping tables."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._closed = False
        self.db.executescript(SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not be shared by threads at once)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise TextlensError(f"{self.path} was closed", hint="Open the collection again.")
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection; no new ones are opened. Other threads' connections are never
        closed under them: each closes when its thread ends or the store is dropped."""
        self._closed = True
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self):
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self):
        """A read transaction: every query inside sees the same committed state."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    def meta(self, key: str, default: str | None = None, db: sqlite3.Connection | None = None) -> str | None:
        row = (db or self.db).execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def generation(self, db: sqlite3.Connection | None = None) -> int:
        return int(self.meta("generation", "0", db))

    def next_key(self) -> int:
        return int(self.meta("next_key", "1"))

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def fields(self, db: sqlite3.Connection | None = None) -> set[str]:
        return {r[0] for r in (db or self.db).execute("SELECT name FROM fields")}

    def ids_and_parents(self) -> list[tuple[str, str | None]]:
        return self.db.execute("SELECT id, parent FROM docs").fetchall()

    def has_chunks(self) -> bool:
        return self.db.execute("SELECT 1 FROM docs WHERE parent IS NOT NULL LIMIT 1").fetchone() is not None

    def keys_of(self, ids: Sequence[str], *, column: str = "id") -> dict[str, int]:
        """Keys of documents whose ``id`` (or ``parent``, with ``column="parent"``) is in ``ids``."""
        if column not in ("id", "parent"):
            raise ValueError(column)
        return dict(_select_in(self.db, f"SELECT id, key FROM docs WHERE {column} IN", ids))

    def ids(self, keys: Iterable[int], db: sqlite3.Connection | None = None) -> dict[int, str]:
        """The id of each live key (dead keys are absent)."""
        return dict(_select_in(db or self.db, "SELECT key, id FROM docs WHERE key IN", keys))

    def rows(self, keys: Iterable[int], db: sqlite3.Connection | None = None) -> dict[int, dict[str, Any]]:
        """Live documents by key (dead keys are absent)."""
        sql = "SELECT key, id, parent, title, text, metadata FROM docs WHERE key IN"
        return {
            key: {"id": did, "parent": parent, "title": title, "text": text, "metadata": json.loads(meta)}
            for key, did, parent, title, text, meta in _select_in(db or self.db, sql, keys)
        }

    def get(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT id, parent, title, text, metadata FROM docs WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            return None
        return Document(row[0], row[3], row[2], json.loads(row[4]), row[1])

    def live_keys(self, where: str = "1", params: Sequence[Any] = (), db: sqlite3.Connection | None = None):
        db = db or self.db
        return [r[0] for r in db.execute(f"SELECT key FROM docs WHERE {where}", list(params))]

    def commit_batch(
        self,
        docs: Sequence[Document],
        keys: Sequence[int],
        *,
        replace: Sequence[int],
        segment: tuple[str, int, int] | None,
    ) -> None:
        """Insert ``docs`` under ``keys`` and retire ``replace``, in one transaction."""
        with self.transaction() as db:
            if replace:
                db.executemany("DELETE FROM docs WHERE key=?", [(k,) for k in replace])
                db.executemany("INSERT OR IGNORE INTO tombstones VALUES (?)", [(k,) for k in replace])
            db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (k, d.id, d.parent, d.title, d.text, json.dumps(d.metadata, ensure_ascii=False))
                    for k, d in zip(keys, docs, strict=True)
                ],
            )
            names = {f for d in docs for f in d.metadata}
            db.executemany("INSERT OR IGNORE INTO fields VALUES (?)", [(n,) for n in names])
            if segment is not None:
                db.execute("INSERT INTO segments VALUES (?, ?, ?)", segment)
            nxt = max([self.next_key(), *(k + 1 for k in keys)])
            self._set(db, "next_key", str(nxt))
            self._set(db, "generation", str(self.generation() + 1))

    def delete_keys(self, keys: Sequence[int]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM docs WHERE key=?", [(k,) for k in keys])
            db.executemany("INSERT OR IGNORE INTO tombstones VALUES (?)", [(k,) for k in keys])
            self._set(db, "generation", str(self.generation() + 1))

    def tombstones(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT key FROM tombstones")]

    def clear_tombstones(self, keys: Sequence[int]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM tombstones WHERE key=?", [(k,) for k in keys])

    def segment_names(self, db: sqlite3.Connection | None = None) -> list[str]:
        return [r[0] for r in (db or self.db).execute("SELECT name FROM segments ORDER BY first_key")]

    def segments(self) -> list[tuple[str, int, int]]:
        return list(self.db.execute("SELECT name, first_key, count FROM segments ORDER BY first_key"))

    def replace_segments(self, old: Sequence[str], new: tuple[str, int, int]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM segments WHERE name=?", [(n,) for n in old])
            db.execute("INSERT INTO segments VALUES (?, ?, ?)", new)
            self._set(db, "generation", str(self.generation() + 1))

    @staticmethod
    def _set(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))


def _select_in(db: sqlite3.Connection, sql: str, values: Iterable[Any]) -> Iterator[tuple]:
    """Rows of ``sql`` + `` (?, ?, ...)`` over ``values``, 500 parameters at a time (SQLite's limit)."""
    values = list(values)
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        yield from db.execute(f"{sql} ({','.join('?' * len(chunk))})", chunk)
