"""Keywords shown in their text: a terminal rendering (rich) and a self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from textlens.html import LIGHT, colour, page

if TYPE_CHECKING:  # the result types, for annotations only (they import this module to render)
    from textlens.keywords.base import KeywordResult

TERMINAL = ("black on yellow", "black on cyan", "black on green", "black on magenta", "black on bright_blue")


def _marks(result: KeywordResult) -> list[tuple[int, int, int]]:
    """Non-overlapping ``(start, end, keyword rank)`` spans, better-ranked keywords first."""
    taken: list[tuple[int, int, int]] = []
    for rank, kw in enumerate(result.keywords):
        for start, end in kw.spans:
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, rank))
    return sorted(taken)


def highlighted(result: KeywordResult, limit: int = 3000) -> Text:
    """The text with each keyword's occurrences in that keyword's colour (cut at ``limit`` chars)."""
    text = result.text[:limit]
    out = Text(text)
    for start, end, rank in _marks(result):
        if end <= len(text):
            out.stylize(TERMINAL[rank % len(TERMINAL)], start, end)
    if len(result.text) > limit:
        out.append(f" … ({len(result.text) - limit:,} more characters)", style="dim")
    return out


_CSS = """
.doc{white-space:pre-wrap;background:#fafafa;
border:1px solid #ddd;border-radius:6px;padding:.7rem}mark{border-radius:3px;padding:0 2px}
ol{margin:.3rem 0}.score{color:#666;font-size:.9em}.note{color:#a15c00}.var{color:#666;font-size:.85em}
"""


def keywords_html(results: Sequence[KeywordResult], ids: Sequence[str], *, title: str = "keywords") -> str:
    """One page: per document, its ranked keywords and its text with them marked."""
    out = [
        f"<h1>textlens: {html.escape(title)}</h1>",
    ]
    for doc_id, result in zip(ids, results, strict=True):
        out.append(f"<h2>{html.escape(str(doc_id))}</h2>")
        if result.note:
            out.append(f'<p class="note">{html.escape(result.note)}</p>')
        items = []
        for rank, kw in enumerate(result.keywords):
            background = colour(rank, LIGHT)
            variants = f' <span class="var">({html.escape(", ".join(kw.variants))})</span>' if kw.variants else ""
            if not kw.grounded:
                variants += ' <span class="note">not in the text</span>'
            items.append(
                f'<li><mark style="background:{background}">{html.escape(kw.phrase)}</mark> '
                f'<span class="score">{kw.score:.3f}</span>{variants}</li>'
            )
        out.append("<ol>" + "".join(items) + "</ol>")
        parts, pos = [], 0
        for start, end, rank in _marks(result):
            parts.append(html.escape(result.text[pos:start]))
            parts.append(f'<mark style="background:{colour(rank, LIGHT)}">{html.escape(result.text[start:end])}</mark>')
            pos = end
        parts.append(html.escape(result.text[pos:]))
        out.append(f'<div class="doc">{"".join(parts)}</div>')
    return page(f"textlens: {title}", out, css=_CSS)
