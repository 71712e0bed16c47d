"""A read snapshot of a collection and its retrievers (the :mod:`textlens.search.retriever` protocols).

The snapshot holds one SQLite read transaction and the vector view of the same
generation, so every retriever and every row fetched in it see one committed state,
whatever writers do meanwhile. The keyword index may hold keys written after the
snapshot or deleted before it; rows are fetched in the snapshot, so such keys drop out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from textlens.errors import InputError
from textlens.index.analysis import TITLE_BOOST, check_title_boost
from textlens.index.local.filters import compile_filters
from textlens.index.local.keyword import KeywordIndex
from textlens.index.local.vectors import VectorView
from textlens.search.retriever import Filters

if TYPE_CHECKING:
    from textlens.index.local.collection import LocalCollection


@dataclass(frozen=True)
class Allowed:
    """The documents passing a filter: their keys (keyword search) and a mask over the vector view."""

    keys: list[int]
    mask: np.ndarray | None


class KeywordRetriever:
    """BM25 from tantivy (k1=1.2, b=0.75) plus ``title_boost`` times the title's; asks for ``extra``
    more hits to make up for unpurged keys."""

    def __init__(self, index: KeywordIndex, extra: int, title_boost: float = 0.0) -> None:
        self.index, self.extra, self.title_boost = index, extra, title_boost

    def search(self, query: str, n: int, allowed: Allowed | None) -> dict[int, float]:
        keys = None if allowed is None else allowed.keys
        hits = self.index.search(query, n + self.extra, keys=keys, title_boost=self.title_boost)
        return {h.key: h.score for h in hits}


class BM25Retriever(KeywordRetriever):
    """BM25 with chosen ``(k1, b)``: tantivy's candidates re-scored exactly (:mod:`textlens.index.bm25`)."""

    def __init__(self, rescorer, params: tuple[float, float], extra: int) -> None:
        self.rescorer, self.params, self.extra = rescorer, params, extra

    def search(self, query: str, n: int, allowed: Allowed | None) -> dict[int, float]:
        keys = None if allowed is None else allowed.keys
        return {h.key: h.score for h in self.rescorer.search(query, n + self.extra, self.params, keys=keys)}


class DenseRetriever:
    """Cosine similarity of the query's embedding (given, or made by the encoder) with the view's vectors."""

    def __init__(self, encoder, view: VectorView, live: np.ndarray | None, vector: np.ndarray | None = None) -> None:
        self.encoder, self.view, self.live = encoder, view, live
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(-1)
            if vector.shape != (view.store.dim,):
                raise InputError(
                    f"the query vector has {vector.shape[0]} dimensions, the collection's vectors {view.store.dim}",
                    hint="Embed the query with the collection's encoder.",
                )
        self.vector = vector

    def search(self, query: str, n: int, allowed: Allowed | None) -> dict[int, float]:
        qv = self.vector if self.vector is not None else self.encoder.encode_queries([query])[0]
        return dict(self.view.search(qv, n, mask=self.live if allowed is None else allowed.mask))


class ReadSnapshot:
    """:class:`~textlens.search.retriever.Snapshot` of a :class:`Collection` (made by ``Collection.snapshot()``)."""

    def __init__(self, col: LocalCollection, db: sqlite3.Connection) -> None:
        self.col, self.db, self.name = col, db, col.name
        self.generation, self.view, self.live = col._vector_state(db)
        col.keyword.reload_for(self.generation)  # the keyword index as committed with this generation
        self.analyzer = col.keyword.analysis

    @cached_property
    def _extra(self) -> int:
        """Deleted keys the keyword index may still hold (purged by the next write)."""
        return self.db.execute("SELECT count(*) FROM tombstones").fetchone()[0]

    def allowed(self, filters: Filters | None) -> Allowed | None:
        if not filters:
            return None
        where, params = compile_filters(filters, self.col.store.fields(self.db))
        keys = self.col.store.live_keys(where, params, self.db)
        mask = np.isin(self.view.keys, keys) if self.view is not None else None
        return Allowed(keys, mask)

    def retriever(self, kind: str, *, bm25: tuple[float, float] | None = None, vector=None, title_boost=None):
        if kind == "keyword":
            from textlens.index.analysis import TANTIVY_DEFAULT, check_params

            params = TANTIVY_DEFAULT if bm25 is None else check_params(bm25)
            if params == TANTIVY_DEFAULT:
                boost = TITLE_BOOST if title_boost is None else check_title_boost(title_boost)
                return KeywordRetriever(self.col.keyword, self._extra, boost)
            if title_boost:  # None or 0: the re-scorer reads the body field only
                raise InputError(
                    "a title boost and BM25 parameters cannot be combined: the BM25 re-scorer scores the body only",
                    hint="Drop --title-boost, or --bm25 (tantivy's 1.2, 0.75 with the title boost).",
                    api_hint="Drop title_boost, or bm25.",
                )
            return BM25Retriever(self.col.bm25_rescorer(self.generation), params, self._extra)
        if kind == "dense":
            if self.view is None:
                raise InputError(
                    f"collection {self.name!r} has no vectors (built without an encoder)",
                    hint="Use --mode keyword, or rebuild the collection with an encoder.",
                    api_hint="Use mode keyword, or rebuild the collection with an encoder.",
                )
            return DenseRetriever(self.col.encoder, self.view, self.live, vector)
        raise ValueError(f"unknown retriever {kind!r}")

    def ids(self, keys: Iterable[int]) -> dict[int, str]:
        return self.col.store.ids(keys, self.db)

    def rows(self, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self.col.store.rows(keys, self.db)
