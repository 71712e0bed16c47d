"""One HTML base for every self-contained page textlens writes (``--html``, ``_repr_html_``): the page
skeleton, the shared CSS and the palettes. Pages use no script or file from outside.

Example:
    >>> page("demo", ["<h1>Hi</h1>"]).startswith("<!doctype html>")
    True
"""

from __future__ import annotations

import html
from collections.abc import Iterable

# White text reads on these (token spans, chart bars, legends).
DARK = ("#3b5b92", "#7a4d8c", "#2f7a5d", "#8c6a2f", "#8c3b3b", "#2f6f7a")
# Black text reads on these (highlights in running text).
LIGHT = ("#ffd54f", "#81d4fa", "#a5d6a7", "#f48fb1", "#ce93d8", "#ffab91", "#b0bec5", "#e6ee9c")
# Many distinguishable hues (one per topic on a map); grey is kept for "none".
CATEGORICAL = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1",
)  # fmt: skip
NONE_COLOUR = "#c8c8c8"

BASE_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
td:first-child,th:first-child{text-align:left}.meta,.muted{color:#666}svg text{font:12px system-ui,sans-serif}
"""


def colour(i: int, palette: tuple[str, ...] = DARK) -> str:
    """The ``i``-th colour of ``palette`` (cycling); negative ``i`` is :data:`NONE_COLOUR`."""
    return NONE_COLOUR if i < 0 else palette[i % len(palette)]


def page(title: str, parts: Iterable[str], *, css: str = "") -> str:
    """A whole page: ``<title>``, the shared CSS plus ``css``, then ``parts`` (HTML, already escaped)."""
    head = f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
    return head + f"<style>{BASE_CSS}{css}</style>" + "".join(parts) + "</html>"
