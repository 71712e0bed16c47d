"""One result type for every retriever: keyword, dense, hybrid and reranked."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hit:
    """One retrieved passage.

    Attributes:
        doc_id: the stored id (a chunk id such as ``"42#3"`` for chunked documents).
        score: the score of the mode that produced the hit (higher is better).
        rank: 1-based position in the results.
        parent: the id of the whole document a chunk belongs to (``None`` if unchunked).
        scores: per-retriever scores behind a fused or reranked hit.
        matched_terms: the analysed query terms found in the passage (keyword search).
        highlights: ``(start, end)`` character ranges of matched words in ``text``.
    """

    doc_id: str
    score: float
    rank: int = 0
    text: str = ""
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    matched_terms: list[str] = field(default_factory=list)
    highlights: list[tuple[int, int]] = field(default_factory=list)

    @property
    def document(self) -> str:
        """The whole document's id."""
        return self.parent or self.doc_id

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (highlights as ``[start, end]`` pairs)."""
        return {
            "doc_id": self.doc_id,
            "score": self.score,
            "rank": self.rank,
            "text": self.text,
            "title": self.title,
            "metadata": self.metadata,
            "parent": self.parent,
            "scores": self.scores,
            "matched_terms": self.matched_terms,
            "highlights": [list(span) for span in self.highlights],
        }


@dataclass
class Results:
    """Hits for one query, best first."""

    query: str
    mode: str
    hits: list[Hit]
    took_ms: float = 0.0

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self):
        return iter(self.hits)

    def __str__(self) -> str:
        """One line a hit: rank, score, id and the title (or the start of the text)."""
        head = f"{self.mode} search {self.query!r}: {len(self.hits)} hit(s) in {self.took_ms:.0f} ms"
        rows = [f"{h.rank:>3}. {h.score:7.3f}  {h.doc_id}  {' '.join((h.title or h.text).split())[:80]}" for h in self]
        return "\n".join([head, *rows])

    def ids(self) -> list[str]:
        return [h.doc_id for h in self.hits]

    def group_by_document(self) -> Results:
        """Keep the best passage of each document (ranks renumbered)."""
        seen: set[str] = set()
        kept = []
        for hit in self.hits:
            if hit.document not in seen:
                seen.add(hit.document)
                kept.append(hit)
        return Results(self.query, self.mode, renumber(kept), self.took_ms)

    def _repr_html_(self) -> str:
        """The hits as a table with matched words marked, pictures by their thumbnails (Jupyter shows it inline)."""
        from textlens.html import page

        rows = []
        for h in self.hits:
            text, parts, at = h.text[:600], [], 0
            for start, end in h.highlights:
                if start >= len(text):
                    break
                parts += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
                at = end
            parts.append(html.escape(text[at:]) + ("…" if len(h.text) > 600 else ""))
            title = f"<b>{html.escape(h.title)}</b><br>" if h.title else ""
            thumb = h.metadata.get("thumbnail")
            if isinstance(thumb, str) and thumb.startswith("data:image/"):  # a picture: its thumbnail first
                title = f"<img src='{html.escape(thumb)}' alt='{html.escape(h.text)}' width=96><br>" + title
            rows.append(
                f"<tr><td>{h.rank}</td><td>{h.score:.4f}</td><td>{html.escape(h.doc_id)}</td>"
                f"<td style='text-align:left'>{title}{''.join(parts)}</td></tr>"
            )
        meta = f"{self.mode}, {len(self.hits)} hits, {self.took_ms:.1f} ms"
        head = f"<h1>{html.escape(self.query)}</h1><p class=meta>{meta}</p>"
        table = "<table><tr><th>rank</th><th>score</th><th>id</th><th>text</th></tr>" + "".join(rows) + "</table>"
        return page(f"search: {self.query}", [head, table], css="mark{background:#ffd54f}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        """The results :meth:`to_dict` gave (as the REST API sends them)."""
        hits = [Hit(**{**h, "highlights": [tuple(span) for span in h.get("highlights", [])]}) for h in data["hits"]]
        return cls(data["query"], data["mode"], hits, data.get("took_ms", 0.0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``textlens search --json`` and of the REST search endpoint."""
        return {
            "query": self.query,
            "mode": self.mode,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
        }


def renumber(hits: list[Hit]) -> list[Hit]:
    """Set ``rank`` to the 1-based position."""
    for n, hit in enumerate(hits, 1):
        hit.rank = n
    return hits
