"""The one way the CLI and the REST API load documents to work on: a text or a corpus path (a collection's:
:func:`textlens.index.sources.from_collection`).

Example:
    >>> from_text("A volcano erupts.").ids
    ['text']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.corpus.document import Document
from textlens.corpus.readers import FieldMap, read_documents
from textlens.errors import InputError


@dataclass
class Texts:
    """Documents to work on, side by side.

    Attributes:
        ids: one per document.
        texts: what to analyse (for a collection: the text it embedded, so embeddings come from the cache).
        names: short display names (title, else the start of the text).
        metadata: each document's metadata.
        encoder: the collection's encoder, when the documents come from one.
    """

    ids: list[str]
    texts: list[str]
    names: list[str]
    metadata: list[dict[str, Any]] = field(default_factory=list)
    encoder: str | None = None

    @classmethod
    def of(cls, docs: Sequence[Document], texts: Sequence[str], encoder: str | None = None) -> Texts:
        names = [d.title or " ".join(d.text.split())[:80] for d in docs]
        return cls([d.id for d in docs], list(texts), names, [d.metadata for d in docs], encoder)


def from_path(path: Path, fields: FieldMap, *, titled: bool = False) -> Texts:
    """Documents of a corpus file or folder (JSONL, CSV, Parquet, text folder, BEIR)."""
    docs = list(read_documents(path, fields=fields))
    if not docs:
        raise InputError(f"{path} holds no documents", hint="Check the file and its text field.")
    return Texts.of(docs, [d.titled_text if titled else d.text for d in docs])


def from_text(text: str, name: str = "text") -> Texts:
    """One document from a text."""
    if not text or not text.strip():
        raise InputError(
            "the text is empty",
            hint="Pass a text, - for standard input, or --file PATH.",
            api_hint="Send a non-empty text.",
        )
    return Texts([name], [text], [name], [{}])
