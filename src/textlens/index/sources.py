"""A collection's documents as :class:`~textlens.corpus.sources.Texts`, for the tasks that work on documents
(keywords, topics): the text each document was embedded with, so that embeddings come from the cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textlens.corpus.sources import Texts
from textlens.errors import InputError


def from_collection(name: str | Path, ids: Sequence[str] | None = None) -> Texts:
    """Documents of a collection: all of them, or those with ``ids`` (each must exist)."""
    from textlens.index import open_collection

    with open_collection(name) as col:
        if ids is None:
            docs = col.documents()
        else:
            found = [col.get(i) for i in ids]
            missing = [i for i, d in zip(ids, found, strict=True) if d is None]
            if missing:
                raise InputError(
                    f"collection {col.name!r} has no document {', '.join(map(repr, missing[:5]))}",
                    hint=f"Find ids with: textlens search QUERY --collection {col.name}",
                    api_hint="Find ids with a search of the collection.",
                )
            docs = found
        encoder = (col.manifest.get("encoder") or {}).get("name")
        return Texts.of(docs, [col.embedded_text(d) for d in docs], encoder)
