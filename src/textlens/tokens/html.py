"""A self-contained HTML page of a comparison (no scripts or files from outside)."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from textlens.html import colour, page

if TYPE_CHECKING:  # the result types, for annotations only (they import this module to render)
    from textlens.tokens.compare import Comparison

_CSS = """
.tok{white-space:pre-wrap;font:14px/1.9 ui-monospace,monospace;background:#fafafa;padding:.6rem;
  border:1px solid #ddd;border-radius:6px}
.tok span{border-radius:3px;padding:1px 0;margin-right:1px;color:#fff}
.tok span.special{background:#555}.tok span.unk{background:#c00}.tok span.bytes{background:#e0b000;color:#000}
.flag{color:#c00;font-size:.8em;margin-left:.3em}
.best{font-weight:bold;color:#176b2c}.bar{display:inline-block;height:.7em;background:#3b5b92;margin-right:.4em}
.meta{font-size:.9em}.lost{color:#c00}
"""


def _segments_html(report) -> str:
    parts = []
    for k, seg in enumerate(report.segments):
        cls = "" if seg.kind == "text" else f' class="{seg.kind}"'
        style = f' style="background:{colour(k)}"' if seg.kind == "text" else ""
        nbytes = len(seg.text.encode("utf-8"))
        tip = f"ids {', '.join(map(str, seg.ids))} · {nbytes} bytes · {seg.text!r}"
        parts.append(f'<span{cls}{style} title="{html.escape(tip)}">{html.escape(seg.text)}</span>')
    return "".join(parts)


def comparison_html(result: Comparison) -> str:
    """Render a comparison as one HTML page."""
    out = [
        "<h1>Tokenizer comparison</h1>",
        f"<p class=meta>{len(result.text):,} characters, {len(result.text.encode()):,} bytes; "
        "hover a token for its ids and bytes.</p>",
        "<h2>Summary</h2><table><tr><th>tokenizer<th>tokens<th>chars/tok<th>bytes/tok<th>fertility"
        "<th>UNK<th>byte tokens<th>specials added<th>round trip</tr>",
    ]
    top = max(r.stats.count for r in result.reports)
    for r in result.reports:
        s = r.stats
        rt = (
            "lossless"
            if r.roundtrip.lossless
            else (
                "<span class=lost>"
                + html.escape(", ".join(f"{k} ×{v}" for k, v in r.roundtrip.losses.items()))
                + "</span>"
            )
        )
        bar = f'<span class=bar style="width:{120 * s.count / top:.0f}px"></span>'
        out.append(
            f"<tr><td>{html.escape(r.name)}<td>{bar}{s.count:,}<td>{s.chars_per_token:.2f}"
            f"<td>{s.bytes_per_token:.2f}<td>{s.fertility:.2f}<td>{100 * s.unk_rate:.1f}%"
            f"<td>{100 * s.byte_token_rate:.1f}%<td>{html.escape(' '.join(s.special_added)) or '-'}"
            f"<td>{rt}</tr>"
        )
    out.append("</table>")
    if result.categories:
        names = [r.name for r in result.reports]
        out.append(
            "<h2>Tokens per probe category</h2><table><tr><th>category"
            + "".join(f"<th>{html.escape(n)}" for n in names)
            + "</tr>"
        )
        for cat, row in result.categories.items():
            best = min(row[n].tokens for n in names)
            cells = "".join(
                f"<td><span class={'best' if row[n].tokens == best else ''}>{row[n].tokens}</span>"
                + "".join(f"<span class=flag>{f}</span>" for f in row[n].flags)
                for n in names
            )
            out.append(f"<tr><td>{html.escape(cat)}{cells}</tr>")
        out.append("</table>")
    for r in result.reports:
        out.append(
            f"<h2>{html.escape(r.name)} <span class=meta>{html.escape(r.format)} · "
            f"{r.vocab_size:,} ids · {r.stats.count:,} tokens · {html.escape(r.source)}</span></h2>"
        )
        out.append(f"<div class=tok>{_segments_html(r)}</div>")
    data = json.dumps(result.to_dict(), ensure_ascii=False).replace("</", "<\\/")
    out.append(f'<script type="application/json" id="textlens-data">{data}</script></html>')
    return page("textlens: tokenizer comparison", out, css=_CSS)
