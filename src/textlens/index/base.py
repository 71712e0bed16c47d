"""What every collection shares, wherever it lives: the errors, the add report, name and metadata checks, the
encoder rule (a collection's vectors come from one model, pinned by fingerprint for a local folder) and search.

A backend (``local/``: SQLite + tantivy + vectors on disk; ``postgres/``: PostgreSQL + pgvector) subclasses
:class:`CollectionBase` and implements writing, reading and a read snapshot; :mod:`textlens.index.factory` picks
the backend. Nothing here imports a backend or the tasks built on collections (ask, evaluate).
"""

from __future__ import annotations

import math
import re
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textlens.corpus.document import Document
from textlens.errors import Conflict, ConflictingInput, InputError, NotFound, TextlensError
from textlens.progress import Progress
from textlens.search.engine import search
from textlens.search.options import SearchOptions
from textlens.search.results import Results

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # also the REST API's schema for a name
_NAME = re.compile(NAME_PATTERN)


BATCH_SIZE = 1024
"""Documents written per transaction by ``add`` and ``upsert`` (each batch is embedded in one call)."""


class CollectionError(TextlensError):
    """A collection is missing, corrupt, locked, or used with the wrong encoder."""


class CollectionNotFound(CollectionError, NotFound):
    """No collection (or no document) by that name."""


class CollectionConflict(CollectionError, Conflict):
    """The collection exists already, or another process is writing to it."""


def ids_taken(collection: str, ids: Iterable[str], count: int) -> CollectionConflict:
    """The error for an add that names ``count`` ids the collection holds already (without upsert)."""
    return CollectionConflict(
        f"{count} id(s) already in collection {collection!r}: {', '.join(list(ids)[:5])}",
        hint="Use upsert (textlens index --upsert) to replace them.",
        api_hint="Use upsert to replace them.",
    )


def check_name(name: str) -> str:
    """``name`` if it is a collection name (never a path), else :class:`InputError`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):  # fullmatch: "$" also matches before a final \n
        raise InputError(
            f"invalid collection name {name!r}",
            hint="Use letters, digits, '.', '_' and '-' (up to 64), starting with a letter or digit.",
        )
    return name


@dataclass
class AddReport:
    """What an add or upsert did."""

    added: int = 0
    replaced: int = 0
    skipped_empty: list[str] = field(default_factory=list)
    embedded: int = 0
    cache_hits: int = 0
    seconds: float = 0.0


class CollectionBase(ABC):
    """What every collection does the same way, wherever it lives: batch checks, the encoder rule, search.

    A backend implements the abstract methods; :meth:`add` and :meth:`upsert` share :meth:`_checked` (ids,
    metadata, empty texts) and :meth:`_embed` (vectors through the embedding cache)."""

    name: str
    manifest: dict[str, Any]

    def __init__(self) -> None:
        self._encoder = None
        self._write_lock = threading.RLock()  # one writing thread per collection object

    @abstractmethod
    def close(self) -> None:
        """Release the collection's connections and its write lock."""

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
            encoder = load_encoder(info["name"])
            check_weights(self.name, info, encoder)
            self._encoder = encoder
        return self._encoder

    def _check_encoder(self, encoder: str | Any) -> None:
        info = self.manifest.get("encoder")
        from textlens.models.ref import resolve

        name = resolve(encoder).name if isinstance(encoder, str) else encoder.name
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

    @abstractmethod
    def add(
        self,
        docs: Iterable[Document],
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        upsert: bool = False,
    ) -> AddReport:
        """Add documents (an id already present is an error unless ``upsert``), a transaction a batch."""

    def upsert(
        self, docs: Iterable[Document], *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
    ) -> AddReport:
        """Add documents, replacing those whose id exists."""
        return self.add(docs, batch_size=batch_size, progress=progress, upsert=True)

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; a whole-document id also deletes its chunks. Returns the count."""

    @abstractmethod
    def delete_collection(self) -> None:
        """Remove the collection and everything in it."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of live documents (and chunks)."""

    @abstractmethod
    def get(self, doc_id: str) -> Document | None:
        """The document (or chunk) with this id, if there is one."""

    @abstractmethod
    def documents(self) -> list[Document]:
        """Every live document (or chunk), in the order they were added."""

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """What the collection is: name, documents, encoder, language, vector index, fields, size."""

    @abstractmethod
    def document_ids(self) -> set[str]:
        """Ids a judgement can name: document ids, and the parents of chunks."""

    @abstractmethod
    def stored_ids(self) -> set[str]:
        """The id of every stored document (and chunk)."""

    @abstractmethod
    def is_chunked(self) -> bool:
        """Whether any stored document is a chunk of a larger one."""

    def embedded_text(self, doc: Document) -> str:
        """The text this collection embeds for ``doc``: title and text, or the text alone (``embed_title``)."""
        return doc.titled_text if self.manifest.get("embed_title", True) else doc.text

    def _checked(self, batch: list[Document], report: AddReport, upsert: bool) -> list[Document]:
        """The documents of ``batch`` to write (empty ones reported as skipped), after checking ids and metadata.

        A batch behaves as its documents written one after another: an id twice is a conflict for an add (the
        second copy finds the id taken), and for an upsert the later copy replaces the earlier one."""
        dups = [i for i, c in Counter(d.id for d in batch).items() if c > 1]
        if dups and not upsert:
            raise ConflictingInput(
                f"duplicate ids within one batch: {', '.join(dups[:10])}"
                + (f" and {len(dups) - 10} more" if len(dups) > 10 else ""),
                hint="Make ids unique, or upsert (a later copy replaces an earlier one).",
            )
        if dups:
            last = {d.id: d for d in batch}  # in the order of first appearance, each id's last copy
            report.replaced += len(batch) - len(last)
            batch = list(last.values())
        for doc in batch:
            check_metadata(doc.id, doc.metadata)
        report.skipped_empty += [d.id for d in batch if not d.text.strip()]
        return [d for d in batch if d.text.strip()]

    def _embed(self, docs: list[Document], report: AddReport, progress: Progress | None, done: int) -> np.ndarray:
        """The vectors of ``docs`` through the embedding cache (hits and misses counted in ``report``)."""
        from textlens.embed.cache import EmbeddingCache, embed_with_cache
        from textlens.embed.images import embed_pictures, reads_images

        cache = EmbeddingCache()

        def step(before: int):
            return (lambda _stage, a, _total: progress("embedded", done + before + a, 0)) if progress else None

        encoder = self.encoder
        vecs = np.empty((len(docs), encoder.dim), dtype=np.float32)
        # a picture's vector comes from its pixels where the encoder reads images, else from its text
        pixels = reads_images(encoder)
        picture = [pixels and isinstance(d.metadata.get("image"), str) for d in docs]
        seen = [n for n, p in enumerate(picture) if p]
        read = [n for n, p in enumerate(picture) if not p]
        if read:
            vecs[read] = embed_with_cache(encoder, [self.embedded_text(docs[n]) for n in read], cache, progress=step(0))
        if seen:
            vecs[seen] = embed_pictures(encoder, [docs[n].metadata["image"] for n in seen], cache, step(len(read)))
        report.cache_hits += cache.hits
        report.embedded += cache.misses
        cache.close()
        return vecs

    @abstractmethod
    def snapshot(self):
        """A context manager giving a read snapshot: one committed state for every retriever inside."""

    def search(
        self,
        query: str,
        options: SearchOptions | None = None,
        *,
        encoder: str | Any | None = None,
        query_vector: Any = None,
        image: Any = None,
        **changes: Any,
    ) -> Results:
        """Search the collection.

        Args:
            options: a :class:`~textlens.search.options.SearchOptions`; ``changes`` override its fields by name
                (``col.search(q, mode="keyword", k=5)``), and an unknown name is an error that lists the known.
            encoder: if given, must be the one the collection was built with.
            query_vector: the query's embedding, if already made with the collection's encoder.
            image: a picture (path, bytes or PIL image) to search by, with an encoder that reads images: dense
                search by its vector, or hybrid with ``query``'s words.
        """
        opts = SearchOptions.merged(options, **changes)
        if encoder is not None:
            self._check_encoder(encoder)
        if image is not None:
            query_vector, opts = self._image_query(query, image, opts)
        return self._search(query, opts, query_vector)

    def _image_query(self, query: str, image: Any, opts: SearchOptions) -> tuple[Any, SearchOptions]:
        """The picture's vector as the dense query, and the options an image query searches with: dense alone
        without text (hybrid with text: BM25 on the text, vectors from the picture)."""
        from dataclasses import replace

        from textlens.embed.images import reads_images

        if self.encoder is None or not reads_images(self.encoder):
            made = "has no vectors (built without an encoder)"
            if self.encoder is not None:
                made = f"was built with {self.encoder.name}, which embeds text only"
            raise ConflictingInput(
                f"collection {self.name!r} {made}: a picture cannot be searched in it",
                hint="Index the pictures into a collection with an image-text encoder (a CLIP or SigLIP folder, "
                "or one from textlens train image-text).",
            )
        words = bool(query.strip())
        if opts.mode == "keyword" and words:
            raise InputError(
                "a keyword search reads the query's words; a picture is searched by its vector",
                hint="Use --mode dense (the picture) or --mode hybrid (the picture and the words).",
                api_hint="Use mode dense or hybrid with an image.",
            )
        if not words:  # a picture alone: its vector is the whole query
            opts = replace(opts, mode="dense")
        if opts.rerank is not None and not words:
            raise InputError(
                "a reranker reads the query's text, and this query is a picture alone",
                hint="Drop --rerank, or add words to the query.",
                api_hint="Drop rerank, or add a text query.",
            )
        return self.encoder.encode_images([image])[0], opts

    def _search(self, query: str, opts: SearchOptions, query_vector: Any) -> Results:
        """The search itself, in one read snapshot (a backend with several servers chooses where)."""
        with self.snapshot() as snap:
            return search(snap, query, opts, query_vector=query_vector)


_INT64 = (-(2**63), 2**63 - 1)


def check_metadata(doc_id: str, value: Any, path: str = "") -> None:
    """Metadata that SQLite's JSON functions, filters and every JSON reader keep as they are: strings,
    booleans, null, 64-bit integers, finite floats, and lists and objects of them."""
    where = f"document {doc_id!r}: metadata{path}"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"{where} has a key {key!r} that is not a string", hint="Use text keys.")
            check_metadata(doc_id, item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_metadata(doc_id, item, f"{path}[{i}]")
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


def document_from_row(row: dict[str, Any]) -> Document:
    return Document(row["id"], row["text"], row["title"] or "", row["metadata"], row["parent"])


def encoder_entry(encoder) -> dict[str, Any]:
    """The manifest's record of the encoder; a local folder's also pins its weights (a folder retrained
    in place holds another model under the same name)."""
    entry = {"name": encoder.name, "dim": encoder.dim}
    if Path(encoder.name.split("@")[0]).is_absolute():
        entry["fingerprint"] = encoder.fingerprint
    return entry


def check_weights(name: str, info: dict[str, Any], encoder) -> None:
    pinned = info.get("fingerprint")
    if pinned is not None and getattr(encoder, "fingerprint", pinned) != pinned:
        raise CollectionError(
            f"the weights in {info['name']} changed since collection {name!r} was built with them; its vectors "
            "come from the old model and cannot be compared with the new one's",
            hint="Rebuild the collection with the new weights (under a new name), or restore the old folder.",
        )


def load_encoder(encoder: str | Any):
    if not isinstance(encoder, str):
        return encoder
    from textlens.embed import get_encoder

    return get_encoder(encoder)
