"""What the search engine needs from a collection, as protocols: a read snapshot that hands out retrievers.

The engine imports nothing from :mod:`textlens.index`; a collection implements these
(see :mod:`textlens.index.snapshot`) and so could any other store (PostgreSQL, say).
Keys are the store's integer document keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

Filters = Mapping[str, Any]


class Retriever(Protocol):
    """One way of finding candidates: BM25, BM25 with chosen k1/b, or vectors."""

    def search(self, query: str, n: int, allowed: Any) -> dict[int, float]:
        """The best ``n`` keys for ``query`` with their scores, among ``allowed`` (``None``: all)."""
        ...


class Analyzer(Protocol):
    """The keyword index's text analysis, for highlighting."""

    def terms(self, text: str) -> list[str]: ...

    def word_terms(self, word: str) -> list[str]: ...

    def bigrams(self, text: str) -> list[str]: ...


class Snapshot(Protocol):
    """One committed state of a collection: every call sees the same documents."""

    name: str
    analyzer: Analyzer

    def allowed(self, filters: Filters | None) -> Any:
        """What passes ``filters`` (opaque to the engine; ``None`` when nothing is filtered)."""
        ...

    def retriever(
        self,
        kind: str,
        *,
        bm25: tuple[float, float] | None = None,
        vector: Any = None,
        title_boost: float | None = None,
    ) -> Retriever:
        """``"keyword"`` (with optional BM25 ``(k1, b)`` and title boost, ``None``: the store's default)
        or ``"dense"`` (with the query's vector, if known)."""
        ...

    def ids(self, keys: Iterable[int]) -> dict[int, str]:
        """The document id of each key that is live in the snapshot."""
        ...

    def rows(self, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Live documents by key (``id``, ``text``, ``title``, ``metadata``, ``parent``)."""
        ...
