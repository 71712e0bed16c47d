"""Chunkers: split documents into passages by paragraph, sentence or token window.

Each chunk is a :class:`Document` with id ``"{doc}#{n}"``, ``parent`` set to the
document id, the document's title and metadata, and optionally the title
prefixed to its text (``title_prefix=True``), as dense retrievers expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import regex

from textlens.corpus.document import Document

Strategy = Literal["none", "paragraph", "sentence", "tokens"]

# A sentence ends at . ! ? followed by space and a capital, digit or quote (not after a
# single capital letter or a common abbreviation), or right after a CJK stop.
_SENTENCE_END = regex.compile(
    r"(?<=[.!?])(?<!\b(?:Mr|Mrs|Ms|Dr|Prof|St|vs|etc|e\.g|i\.e|Fig|No|al)\.)(?<!\b\p{Lu}\.)[\"')\]]*\s+"
    r"(?=[\p{Lu}\p{N}\"'(\[])|(?<=[。！？])\s*"
)
_PARAGRAPH = regex.compile(r"\n\s*\n")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by blank lines (single newlines when there are none)."""
    parts = [p.strip() for p in _PARAGRAPH.split(text)]
    if len(parts) == 1:
        parts = [p.strip() for p in text.split("\n")]
    return [p for p in parts if p]


def split_sentences(text: str) -> list[str]:
    """Sentences of a text (rule-based: ., !, ? and CJK stops; common abbreviations kept)."""
    out = []
    for para in split_paragraphs(text):
        out.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
    return out


@dataclass
class Chunker:
    """How to cut documents into passages.

    Args:
        strategy: ``none`` (whole documents), ``paragraph``, ``sentence`` or ``tokens``.
        size: for ``tokens``, the window in tokens; for ``paragraph``/``sentence``,
            the most characters merged into one chunk (0 keeps one unit per chunk).
        overlap: for ``tokens``, tokens shared by consecutive windows.
        tokenizer: any textlens tokenizer name for ``tokens`` (default ``bert-base-uncased``,
            the tokenizer of the default encoder).
        title_prefix: prefix each chunk's text with ``"{title}\\n"``.
    """

    strategy: Strategy = "none"
    size: int = 0
    overlap: int = 0
    tokenizer: str = "bert-base-uncased"
    title_prefix: bool = False

    def __post_init__(self) -> None:
        from textlens.errors import InputError

        if self.strategy not in ("none", "paragraph", "sentence", "tokens"):
            raise InputError(
                f"unknown chunking strategy {self.strategy!r}", hint="Use none, paragraph, sentence or tokens."
            )
        if self.strategy == "tokens" and not (0 <= self.overlap < self.size):
            raise InputError(
                f"token windows need 0 <= overlap < size (got size={self.size}, overlap={self.overlap})",
                hint="For example --chunk-size 256 --overlap 32.",
            )

    def _units(self, text: str) -> list[str]:
        if self.strategy == "paragraph":
            return _merge(split_paragraphs(text), self.size, "\n\n")
        if self.strategy == "sentence":
            return _merge(split_sentences(text), self.size, " ")
        if self.strategy == "tokens":
            return _windows(text, self.tokenizer, self.size, self.overlap)
        return [text]

    def chunk(self, doc: Document) -> list[Document]:
        """The chunks of one document (the document itself for ``none``)."""
        if self.strategy == "none":
            return [_with_title(doc, doc.text, doc.id, None, self.title_prefix)]
        units = self._units(doc.text) or [doc.text]
        return [_with_title(doc, u, f"{doc.id}#{n}", doc.id, self.title_prefix) for n, u in enumerate(units)]

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            yield from self.chunk(doc)


def _with_title(doc: Document, text: str, cid: str, parent: str | None, prefix: bool) -> Document:
    body = f"{doc.title}\n{text}" if prefix and doc.title else text
    return Document(cid, body, doc.title, dict(doc.metadata), parent)


def _merge(units: list[str], limit: int, sep: str) -> list[str]:
    if limit <= 0:
        return units
    out, cur = [], ""
    for unit in units:
        if cur and len(cur) + len(sep) + len(unit) > limit:
            out.append(cur)
            cur = unit
        else:
            cur = f"{cur}{sep}{unit}" if cur else unit
    if cur:
        out.append(cur)
    return out


def _windows(text: str, tokenizer: str, size: int, overlap: int) -> list[str]:
    """Token windows, cut on token boundaries; each window is a slice of the original text."""
    from textlens.tokens import get_tokenizer

    ids, spans = get_tokenizer(tokenizer).token_spans(text)
    if len(ids) <= size:
        return [text]
    out, step = [], size - overlap
    for start in range(0, len(ids), step):
        end = min(start + size, len(ids))
        out.append(text[spans[start][0] : spans[end - 1][1]].strip())
        if end == len(ids):
            break
    return [w for w in out if w]
