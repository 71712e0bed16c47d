"""A collection on this machine: documents, a keyword index and vectors in one directory.

Layout of ``$TEXTLENS_HOME/collections/NAME`` (or any path)::

    collection.json   format version, encoder, language, vector index
    docs.sqlite       documents, metadata, bookkeeping (the source of truth, WAL)
    keyword/          tantivy index
    vectors/          float32 segments (+ saved ANN indexes)
    write.lock        held by the one process writing

A batch is written as: vectors segment files, keyword commit, then one SQLite
transaction that makes the batch live. A process killed anywhere in between
leaves the last committed state: uncommitted segment files and keyword entries
are ignored by searches and purged by the next writer.

Made and opened through :mod:`textlens.index.factory` (``textlens.Collection.create`` for users).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textlens.atomic import write_json
from textlens.config import DEFAULT_ENCODER
from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index.base import (
    BATCH_SIZE,
    AddReport,
    CollectionBase,
    CollectionConflict,
    CollectionError,
    CollectionNotFound,
    document_from_row,
    encoder_entry,
    ids_taken,
    load_encoder,
)
from textlens.index.local.keyword import KeywordIndex
from textlens.index.local.snapshot import ReadSnapshot
from textlens.index.local.store import DocStore
from textlens.index.local.vectors import VectorStore
from textlens.progress import Progress

FORMAT_VERSION = 1
MAX_SEGMENTS = 8


class LocalCollection(CollectionBase):
    """A collection in a folder: :meth:`create` or :meth:`open` it at a path; then add, upsert, delete, search."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        super().__init__()
        self.path = path
        self.manifest = manifest
        self.name = manifest["name"]
        try:
            self.store = DocStore(path / "docs.sqlite")
            self.store.count()
        except sqlite3.DatabaseError as exc:
            raise CollectionError(
                f"{path / 'docs.sqlite'} is corrupt: {exc}",
                hint="Restore the collection from a backup or rebuild it with textlens index.",
                api_hint="Restore the collection from a backup or rebuild it.",
            ) from exc
        self.keyword = KeywordIndex(path / "keyword", manifest["language"])
        enc = manifest.get("encoder")
        self.vectors = VectorStore(path / "vectors", enc["dim"], kind=manifest["vector_index"]) if enc else None
        self._lock = None
        self._refresh_lock = threading.Lock()
        # (generation, vector view, live mask or None): replaced whole, never changed in place
        self._state: tuple[int, Any, np.ndarray | None] = (-1, None, None)
        self._rescorer: tuple[int, Any] | None = None  # (generation, BM25Rescorer)

    # -- lifecycle -----------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        *,
        encoder: str | Any | None = DEFAULT_ENCODER,
        language: str = "english",
        vector_index: str = "auto",
        embed_title: bool = True,
        exist_ok: bool = False,
    ) -> LocalCollection:
        """Create a collection in the folder ``path`` (see :func:`textlens.index.factory.create` for the options)."""
        name = path.name
        if (path / "collection.json").is_file():
            if exist_ok:
                return cls.open(path, encoder=encoder)
            raise CollectionConflict(
                f"collection {name!r} already exists at {path}",
                hint="Open it, add to it, or delete it with `textlens collections delete`.",
                api_hint="Open it, add to it, or delete it first.",
            )
        from textlens.index.analysis import analyzer
        from textlens.index.local.vectors import VECTOR_INDEXES

        analyzer(language)  # validate before writing anything
        if vector_index not in VECTOR_INDEXES:
            raise InputError(f"unknown vector index {vector_index!r}", hint="Use " + ", ".join(VECTOR_INDEXES) + ".")
        enc = load_encoder(encoder) if encoder is not None else None
        path.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": path.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "language": language,
            "vector_index": vector_index,
            "embed_title": embed_title,
            "encoder": encoder_entry(enc) if enc else None,
        }
        write_json(path / "collection.json", manifest)
        col = cls(path, manifest)
        col._encoder = enc
        return col

    @classmethod
    def open(cls, path: Path, *, encoder: str | Any | None = None) -> LocalCollection:
        """Open the collection in the folder ``path``; ``encoder`` must be the one it was built with."""
        mf = path / "collection.json"
        if not mf.is_file():
            raise CollectionNotFound(
                f"no collection {path.name!r} at {path}",
                hint="List collections with `textlens collections list`; create one with "
                "`textlens index PATH --collection NAME`.",
                api_hint="List the collections (GET /api/collections); adding documents creates one.",
            )
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
            version = int(manifest["format_version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CollectionError(f"{mf} is corrupt ({exc})", hint="Rebuild the collection.") from exc
        if version > FORMAT_VERSION:
            raise CollectionError(
                f"{path} has format version {version}; this textlens reads up to {FORMAT_VERSION}",
                hint="Upgrade textlens to open it.",
            )
        col = cls(path, manifest)
        if encoder is not None:
            col._check_encoder(encoder)
        return col

    def close(self) -> None:
        self.store.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def delete_collection(self) -> None:
        """Remove the collection's directory."""
        self.close()
        shutil.rmtree(self.path)

    # -- writing -------------------------------------------------------------
    def _writer(self) -> None:
        """Start a write: take the write lock (the first time, also dropping what an interrupted writer
        left), then purge the keys deleted by earlier writes from the keyword index."""
        if self._lock is None:
            self._take_lock()
        self._purge()

    def _take_lock(self) -> None:
        lock = (self.path / "write.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.close()
            raise CollectionConflict(
                f"another process is writing to collection {self.name!r}",
                hint="Wait for it to finish; searches can run meanwhile.",
            ) from exc
        self._lock = lock
        if self.vectors is not None:
            self.vectors.remove_unlisted([s[0] for s in self.store.segments()])
        self.keyword.delete_from(self.store.next_key())
        self.keyword.commit()

    def _purge(self) -> None:
        """Drop deleted keys from the keyword index. Done when the next write starts, not right after a
        delete, so that a search whose snapshot still holds those documents finds them."""
        dead = self.store.tombstones()
        if not dead:
            return
        self.keyword.delete(dead)
        self.keyword.commit()
        self.store.clear_tombstones(dead)

    def add(
        self,
        docs: Iterable[Document],
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        upsert: bool = False,
    ) -> AddReport:
        """Add documents (an id already present is an error unless ``upsert``)."""
        from textlens.corpus.readers import batched

        report = AddReport()
        start = time.perf_counter()
        with self._write_lock:
            self._writer()
            done = 0
            for batch in batched(docs, batch_size):
                self._write_batch(batch, upsert, report, progress, done)
                done += len(batch)
                if progress:
                    progress("indexed", done, 0)
            self._compact()
        report.seconds = time.perf_counter() - start
        return report

    def _write_batch(
        self, batch: list[Document], upsert: bool, report: AddReport, progress: Progress | None, done: int
    ) -> None:
        keep = self._checked(batch, report, upsert)
        if not keep:
            return
        old = self.store.keys_of([d.id for d in keep])
        if old and not upsert:
            raise ids_taken(self.name, old, len(old))
        first = self.store.next_key()
        keys = list(range(first, first + len(keep)))
        segment = None
        if self.vectors is not None:
            vecs = self._embed(keep, report, progress, done)
            name = f"seg-{first:012d}"
            self.vectors.write_segment(name, keys, vecs)
            segment = (name, first, len(keys))
        self.keyword.add(keys, [d.titled_text for d in keep], [d.title for d in keep])
        self.keyword.commit()
        self.store.commit_batch(keep, keys, replace=list(old.values()), segment=segment)
        report.added += len(keep) - len(old)
        report.replaced += len(old)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; a whole-document id also deletes its chunks. Returns the count."""
        with self._write_lock:
            return self._delete(ids)

    def _delete(self, ids: Sequence[str]) -> int:
        self._writer()
        keys = {**self.store.keys_of(list(ids)), **self.store.keys_of(list(ids), column="parent")}
        if keys:
            self.store.delete_keys(list(keys.values()))
        return len(keys)

    def _compact(self) -> None:
        if self.vectors is None:
            return
        segs = self.store.segments()
        if len(segs) <= MAX_SEGMENTS:
            return
        live = np.array(self.store.live_keys(), dtype=np.int64)
        name = f"seg-{segs[0][1]:012d}-m{self.store.generation()}"
        n = self.vectors.merge([s[0] for s in segs], live, name)
        self.store.replace_segments([s[0] for s in segs], (name, segs[0][1], n))
        self.vectors.remove_unlisted([name])

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return self.store.count()

    def get(self, doc_id: str) -> Document | None:
        return self.store.get(doc_id)

    def documents(self) -> list[Document]:
        """Every live document (or chunk), in the order they were added."""
        rows = self.store.rows(self.store.live_keys())
        return [document_from_row(rows[key]) for key in sorted(rows)]

    def info(self) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        out = {
            "name": self.name,
            "path": str(self.path),
            "documents": len(self),
            "format_version": self.manifest["format_version"],
            "encoder": self.manifest.get("encoder"),
            "language": self.manifest["language"],
            "vector_index": self.manifest["vector_index"],
            "fields": sorted(self.store.fields()),
            # False for a keyword index written before titles had a field: no title boost until rebuilt
            "keyword_index": "tantivy",
            "keyword_titles": self.keyword.has_titles,
            "bytes_on_disk": size,
            "created": self.manifest["created"],
        }
        if self.vectors is not None:
            with self.snapshot():
                out["vectors"] = self.vectors.stats()
        return out

    def _vector_state(self, db: sqlite3.Connection) -> tuple[int, Any, np.ndarray | None]:
        """(generation, vector view, live mask) as of ``db``'s transaction; loaded when it changed."""
        gen = self.store.generation(db)
        if self.vectors is None:
            return gen, None, None
        if self._state[0] == gen:
            return self._state
        with self._refresh_lock:
            if self._state[0] != gen:
                view = self.vectors.load(self.store.segment_names(db))
                live = np.isin(view.keys, np.array(self.store.live_keys(db=db), dtype=np.int64))
                self._state = (gen, view, None if live.all() else live)
            return self._state

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[ReadSnapshot]:
        """A read snapshot (:class:`~textlens.index.local.snapshot.ReadSnapshot`): one committed state for every
        retriever and row fetched inside, whatever writers do meanwhile."""
        with self.store.snapshot() as db:
            yield ReadSnapshot(self, db)

    def bm25_rescorer(self, generation: int | None = None):
        """The :class:`~textlens.index.local.bm25.BM25Rescorer` of a generation (default: the current one)."""
        from textlens.index.local.bm25 import BM25Rescorer

        gen = self.store.generation() if generation is None else generation
        with self._refresh_lock:
            if self._rescorer is None or self._rescorer[0] != gen:

                def bodies(keys):
                    return {k: document_from_row(r).titled_text for k, r in self.store.rows(keys).items()}

                self._rescorer = (gen, BM25Rescorer(self.keyword, bodies, self.store.live_keys()))
            return self._rescorer[1]

    def document_ids(self) -> set[str]:
        """Ids a judgement can name: document ids, and the parents of chunks."""
        return {parent or did for did, parent in self.store.ids_and_parents()}

    def stored_ids(self) -> set[str]:
        """The id of every stored document (and chunk)."""
        return {did for did, _ in self.store.ids_and_parents()}

    def is_chunked(self) -> bool:
        """Whether any stored document is a chunk of a larger one."""
        return self.store.has_chunks()
