"""A :class:`Collection`: documents, a keyword index and vectors in one directory.

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

Example:
    >>> col = Collection.create("notes", encoder=None)
    >>> col.add([Document("1", "The cat sat on the mat.")])
    >>> col.search("cats", mode="keyword").ids()
    ['1']
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import re
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textlens.atomic import write_json
from textlens.config import DEFAULT_ENCODER, settings
from textlens.corpus.document import Document
from textlens.errors import Conflict, InputError, NotFound, TextlensError
from textlens.index.keyword import KeywordIndex
from textlens.index.snapshot import ReadSnapshot
from textlens.index.store import DocStore
from textlens.index.vectors import VectorStore
from textlens.progress import Progress

FORMAT_VERSION = 1
MAX_SEGMENTS = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class CollectionError(TextlensError):
    """A collection is missing, corrupt, locked, or used with the wrong encoder."""


class CollectionNotFound(CollectionError, NotFound):
    """No collection (or no document) by that name."""


class CollectionConflict(CollectionError, Conflict):
    """The collection exists already, or another process is writing to it."""


def collections_root() -> Path:
    return settings().home / "collections"


def check_name(name: str) -> str:
    """``name`` if it is a collection name (never a path), else :class:`InputError`."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise InputError(
            f"invalid collection name {name!r}",
            hint="Use letters, digits, '.', '_' and '-' (up to 64), starting with a letter or digit.",
        )
    return name


def _is_path(name: str | Path) -> bool:
    text = str(name)
    return isinstance(name, Path) or "/" in text or "\\" in text or text.startswith(".")


def backend_url(name: str | Path, backend: str | None) -> str | None:
    """The PostgreSQL URL a collection lives at, or ``None`` for this machine's folders: ``backend``,
    else ``TEXTLENS_BACKEND``; a path (a ``Path``, or text with a slash or a leading ``.``) is local."""
    text = str(name)
    if _is_path(name):
        if backend not in (None, "local"):
            raise InputError(
                f"{text!r} is a folder; a collection in {backend.split('://')[0]} has a name, not a path",
                hint="Name the collection (letters, digits, '.', '_', '-'), or drop the backend for a local folder.",
            )
        return None
    backend = settings().backend if backend is None else backend
    if backend in (None, "", "local"):
        return None
    from textlens.index.postgres import is_postgres

    if not is_postgres(backend):
        raise InputError(
            f"unknown backend {backend.split('://')[0] + '://...' if '://' in backend else backend!r}",
            hint="Use local, or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL (TEXTLENS_BACKEND or --backend).",
        )
    return backend


def collection_path(name: str | Path) -> Path:
    """A bare name lives under ``$TEXTLENS_HOME/collections``; a ``Path``, or text with a slash
    or a leading ``.``, is a folder (the CLI's and Python's convenience; the server passes names only)."""
    if _is_path(name):
        return Path(str(name)).expanduser()
    return collections_root() / check_name(str(name))


@dataclass
class AddReport:
    """What an add or upsert did."""

    added: int = 0
    replaced: int = 0
    skipped_empty: list[str] = field(default_factory=list)
    embedded: int = 0
    cache_hits: int = 0
    seconds: float = 0.0


class CollectionBase:
    """What every collection does the same way, wherever it lives: the encoder rule, search, ask."""

    name: str
    manifest: dict[str, Any]

    def __init__(self) -> None:
        self._encoder = None
        self._write_lock = threading.RLock()  # one writing thread per collection object

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def encoder(self):
        info = self.manifest.get("encoder")
        if info is None:
            return None
        if self._encoder is None:
            encoder = _load_encoder(info["name"])
            _check_weights(self.name, info, encoder)
            self._encoder = encoder
        return self._encoder

    def _check_encoder(self, encoder: str | Any) -> None:
        info = self.manifest.get("encoder")
        from textlens.embed.sentence_transformers import resolve_model

        name = encoder if isinstance(encoder, str) else encoder.name
        name = resolve_model(name)[0] if isinstance(encoder, str) else name
        if info is None:
            raise CollectionError(
                f"collection {self.name!r} has no vectors (built without an encoder)",
                hint="Use keyword search, or rebuild it with an encoder.",
            )
        if name != info["name"]:
            raise CollectionError(
                f"collection {self.name!r} was built with encoder {info['name']!r}; vectors from {name!r} "
                "live in another space and cannot be compared with it.",
                hint=f"Query with {info['name']!r}, or rebuild the collection with the new encoder.",
            )
        if not isinstance(encoder, str):
            self._encoder = encoder

    def add(self, docs: Iterable[Document], **kwargs: Any) -> AddReport:
        raise NotImplementedError

    def upsert(self, docs: Iterable[Document], **kwargs: Any) -> AddReport:
        """Add documents, replacing those whose id exists."""
        return self.add(docs, upsert=True, **kwargs)

    def embedded_text(self, doc: Document) -> str:
        """The text this collection embeds for ``doc``: title and text, or the text alone (``embed_title``)."""
        return doc.titled_text if self.manifest.get("embed_title", True) else doc.text

    def _checked(self, batch: list[Document], report: AddReport) -> list[Document]:
        """The documents of ``batch`` to write (empty ones reported as skipped), after checking ids and metadata."""
        dups = [i for i, c in Counter(d.id for d in batch).items() if c > 1]
        if dups:
            raise InputError(
                f"duplicate ids within one batch: {', '.join(dups[:10])}"
                + (f" and {len(dups) - 10} more" if len(dups) > 10 else ""),
                hint="Make ids unique, or pass the later versions in a separate upsert.",
            )
        for doc in batch:
            _check_metadata(doc.id, doc.metadata)
        report.skipped_empty += [d.id for d in batch if not d.text.strip()]
        return [d for d in batch if d.text.strip()]

    def _embed(self, docs: list[Document], report: AddReport, progress: Progress | None, done: int) -> np.ndarray:
        """The vectors of ``docs`` through the embedding cache (hits and misses counted in ``report``)."""
        from textlens.embed.cache import EmbeddingCache, embed_with_cache

        cache = EmbeddingCache()
        cb = (lambda _stage, a, _total: progress("embedded", done + a, 0)) if progress else None
        vecs = embed_with_cache(self.encoder, [self.embedded_text(d) for d in docs], cache, progress=cb)
        report.cache_hits += cache.hits
        report.embedded += cache.misses
        cache.close()
        return vecs

    def snapshot(self):
        raise NotImplementedError

    def search(self, query: str, *, encoder: str | Any | None = None, **options: Any):
        """Search the collection and return :class:`~textlens.search.results.Results`.

        ``options`` are those of :func:`textlens.search.engine.search`: ``mode`` (keyword,
        dense, hybrid), ``k``, ``filters``, ``rerank``, ``fusion``, ``weights``,
        ``candidates``, ``group_by_document``, ``bm25``, ``title_boost``, ``highlight``, ``query_vector`` (the query's
        embedding, if already made). ``encoder``, if given, must be the one the collection was built with.
        """
        from textlens.search.engine import search

        if encoder is not None:
            self._check_encoder(encoder)
        with self.snapshot() as snap:
            return search(snap, query, **options)

    def ask(self, question: str, **options: Any):
        """Answer ``question`` from this collection's passages, with citations: see :func:`textlens.ask.ask`."""
        from textlens.ask import ask

        return ask(self, question, **options)


class Collection(CollectionBase):
    """Open with :meth:`create` or :meth:`open`; then add, upsert, delete and search.

    ``backend``: where the collection lives: ``None`` (``TEXTLENS_BACKEND``, else this machine's
    ``$TEXTLENS_HOME/collections``), ``"local"``, or a ``postgresql://`` URL, which gives a
    :class:`~textlens.index.postgres.PgCollection` with the same methods.
    """

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
        name: str | Path,
        *,
        encoder: str | Any | None = DEFAULT_ENCODER,
        language: str = "english",
        vector_index: str = "auto",
        embed_title: bool = True,
        exist_ok: bool = False,
        backend: str | None = None,
    ) -> CollectionBase:
        """Create a collection.

        Args:
            encoder: embedding model id, folder or :class:`Encoder`; ``None`` for keyword search only.
            language: stemming and stop words of the keyword index.
            vector_index: ``auto``, ``exact``, ``hnsw``, ``int8`` or ``binary`` (PostgreSQL: ``hnsw``, ``exact``).
            embed_title: embed title and text together (as BEIR evaluations do), not the text alone.
            backend: ``None`` (``TEXTLENS_BACKEND``, else local), ``"local"`` or a ``postgresql://`` URL.
        """
        url = backend_url(name, backend)
        if url is not None:
            from textlens.index.postgres import PgCollection

            return PgCollection.create(
                str(name),
                url,
                encoder=encoder,
                language=language,
                vector_index=vector_index,
                embed_title=embed_title,
                exist_ok=exist_ok,
            )
        path = collection_path(name)
        if (path / "collection.json").is_file():
            if exist_ok:
                return cls.open(path, encoder=encoder)
            raise CollectionConflict(
                f"collection {str(name)!r} already exists at {path}",
                hint="Open it, add to it, or delete it with `textlens collections delete`.",
                api_hint="Open it, add to it, or delete it first.",
            )
        from textlens.index.keyword import analyzer
        from textlens.index.vectors import VECTOR_INDEXES

        analyzer(language)  # validate before writing anything
        if vector_index not in VECTOR_INDEXES:
            raise InputError(f"unknown vector index {vector_index!r}", hint="Use " + ", ".join(VECTOR_INDEXES) + ".")
        enc = _load_encoder(encoder) if encoder is not None else None
        path.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": path.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "language": language,
            "vector_index": vector_index,
            "embed_title": embed_title,
            "encoder": _encoder_entry(enc) if enc else None,
        }
        write_json(path / "collection.json", manifest)
        col = cls(path, manifest)
        col._encoder = enc
        return col

    @classmethod
    def open(cls, name: str | Path, *, encoder: str | Any | None = None, backend: str | None = None) -> CollectionBase:
        """Open an existing collection; ``encoder`` must be the one it was built with."""
        url = backend_url(name, backend)
        if url is not None:
            from textlens.index.postgres import PgCollection

            return PgCollection.open(str(name), url, encoder=encoder)
        path = collection_path(name)
        mf = path / "collection.json"
        if not mf.is_file():
            raise CollectionNotFound(
                f"no collection {str(name)!r} at {path}",
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

    @staticmethod
    def exists(name: str | Path, *, backend: str | None = None) -> bool:
        """Whether a collection by that name (or at that path) exists."""
        url = backend_url(name, backend)
        if url is not None:
            from textlens.index.postgres import exists

            return exists(str(name), url)
        return (collection_path(name) / "collection.json").is_file()

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
        batch_size: int = 1024,
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
        keep = self._checked(batch, report)
        if not keep:
            return
        old = self.store.keys_of([d.id for d in keep])
        if old and not upsert:
            raise InputError(
                f"{len(old)} id(s) already in collection {self.name!r}: {', '.join(list(old)[:5])}",
                hint="Use upsert (textlens index --upsert) to replace them.",
                api_hint="Use upsert to replace them.",
            )
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
        return [_document(rows[key]) for key in sorted(rows)]

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
        """A read snapshot (:class:`~textlens.index.snapshot.ReadSnapshot`): one committed state for every
        retriever and row fetched inside, whatever writers do meanwhile."""
        with self.store.snapshot() as db:
            yield ReadSnapshot(self, db)

    def bm25_rescorer(self, generation: int | None = None):
        """The :class:`~textlens.index.bm25.BM25Rescorer` of a generation (default: the current one)."""
        from textlens.index.bm25 import BM25Rescorer

        gen = self.store.generation() if generation is None else generation
        with self._refresh_lock:
            if self._rescorer is None or self._rescorer[0] != gen:

                def bodies(keys):
                    return {k: _document(r).titled_text for k, r in self.store.rows(keys).items()}

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


_INT64 = (-(2**63), 2**63 - 1)


def _check_metadata(doc_id: str, value: Any, path: str = "") -> None:
    """Metadata that SQLite's JSON functions, filters and every JSON reader keep as they are: strings,
    booleans, null, 64-bit integers, finite floats, and lists and objects of them."""
    where = f"document {doc_id!r}: metadata{path}"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"{where} has a key {key!r} that is not a string", hint="Use text keys.")
            _check_metadata(doc_id, item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_metadata(doc_id, item, f"{path}[{i}]")
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise InputError(
                f"{where} is an integer outside the signed 64-bit range ({value})",
                hint="Store such a number as a string.",
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{where} is {value}, which JSON cannot hold", hint="Use null or a finite number.")
    else:
        raise InputError(
            f"{where} is a {type(value).__name__}, which JSON cannot hold",
            hint="Use strings, numbers, booleans, null, lists and objects.",
        )


def _document(row: dict[str, Any]) -> Document:
    return Document(row["id"], row["text"], row["title"] or "", row["metadata"], row["parent"])


def _encoder_entry(encoder) -> dict[str, Any]:
    """The manifest's record of the encoder; a local folder's also pins its weights (a folder retrained
    in place holds another model under the same name)."""
    entry = {"name": encoder.name, "dim": encoder.dim}
    if Path(encoder.name.split("@")[0]).is_absolute():
        entry["fingerprint"] = encoder.fingerprint
    return entry


def _check_weights(name: str, info: dict[str, Any], encoder) -> None:
    pinned = info.get("fingerprint")
    if pinned is not None and getattr(encoder, "fingerprint", pinned) != pinned:
        raise CollectionError(
            f"the weights in {info['name']} changed since collection {name!r} was built with them; its vectors "
            "come from the old model and cannot be compared with the new one's",
            hint="Rebuild the collection with the new weights (under a new name), or restore the old folder.",
        )


def _load_encoder(encoder: str | Any):
    if not isinstance(encoder, str):
        return encoder
    from textlens.embed import get_encoder

    return get_encoder(encoder)


def list_collections(backend: str | None = None) -> list[dict[str, Any]]:
    """Every collection in ``backend`` (default: ``TEXTLENS_BACKEND``, else ``$TEXTLENS_HOME/collections``)."""
    url = backend_url("", backend)
    if url is not None:
        from textlens.index.postgres import list_pg_collections

        return list_pg_collections(url)
    root = collections_root()
    out = []
    for mf in sorted(root.glob("*/collection.json")) if root.is_dir() else []:
        try:
            with Collection.open(mf.parent) as col:
                out.append(
                    {
                        "name": col.name,
                        "documents": len(col),
                        "encoder": (col.manifest.get("encoder") or {}).get("name"),
                        "path": str(mf.parent),
                    }
                )
        except TextlensError as exc:
            out.append({"name": mf.parent.name, "error": exc.message, "path": str(mf.parent)})
    return out
