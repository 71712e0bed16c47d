"""The premium report as a self-contained HTML page (``tokens languages --html``, Jupyter): the summary per
tokenizer, a chart of median premiums by script, the most expensive languages, and the languages × tokenizers
heatmap as a table that sorts by any column (a few lines of inline script; nothing from outside)."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from textlens.html import CATEGORICAL, colour, page

if TYPE_CHECKING:
    from textlens.tokens.languages import LanguageReport

_CSS = """
.heat td{font-variant-numeric:tabular-nums}.heat th{cursor:pointer;position:sticky;top:0;background:#fff}
.heat td.lossy{color:#999;text-decoration:line-through}.scripts{font-size:.85em}
.legend span{display:inline-block;padding:0 .5em;margin-right:.2em}.notes li{margin:.1rem 0}
"""
_SORT = """<script>
document.querySelectorAll('table.heat').forEach(t=>t.querySelectorAll('th').forEach((th,i)=>th.onclick=()=>{
 const rows=[...t.tBodies[0].rows],num=th.dataset.num!==undefined,dir=th.dataset.dir=th.dataset.dir==='a'?'d':'a';
 rows.sort((a,b)=>{const x=a.cells[i].dataset.v??a.cells[i].textContent,y=b.cells[i].dataset.v??b.cells[i].textContent;
  const c=num?(+x)-(+y):x.localeCompare(y);return dir==='a'?c:-c});rows.forEach(r=>t.tBodies[0].appendChild(r))}));
</script>"""


def heat(premium: float) -> str:
    """The background of a premium: green at 1 or below, through yellow (2) and orange (4) to red (8 and more)."""
    x = min(max(math.log2(max(premium, 1e-9)), 0.0), 3.0) / 3.0
    hue = 120 * (1 - x)
    return f"hsl({hue:.0f},70%,{85 - 20 * x:.0f}%)"


def _esc(x: object) -> str:
    return html.escape(str(x))


def _summary(report: LanguageReport) -> str:
    rows = []
    for t in report.tokenizers:
        price = t.price
        pivot, median = t.doc_cost(report.words), t.doc_cost(report.words, t.median_premium)
        cost = f"${pivot:.4f} / ${median:.4f}" if pivot is not None else ""
        context = f"{price.context:,}" if price and price.context else ""
        cheap = ", ".join(f"{c} {p:.2f}" for c, p in t.cheapest)
        rows.append(
            f"<tr><td>{_esc(t.name)}<td>{t.vocab_size:,}<td>{t.median_premium:.2f}<td>{t.pivot_tokens_per_word:.2f}"
            f"<td style='text-align:left'>{_esc(cheap)}<td style='text-align:left'>{_esc(price.model if price else '')}"
            f"<td>{context}<td>{cost}</tr>"
        )
    head = (
        "<tr><th>tokenizer<th>vocab<th>median premium<th>pivot tokens/word<th>5 cheapest (premium)<th>model priced"
        f"<th>context<th>{report.words:,}-word document: pivot / median language</tr>"
    )
    return "<h2>Per tokenizer</h2><table>" + head + "".join(rows) + "</table>"


def _script_chart(report: LanguageReport, most: int = 24) -> str:
    """Grouped horizontal bars: median premium per script (the ``most`` most used scripts) and tokenizer."""
    scripts = list(report.by_script().items())[:most]
    names = [t.name for t in report.tokenizers]
    top = max((v for _, row in scripts for v in row.values() if v is not None), default=1.0) or 1.0
    bar, gap, left, width = 7, 8, 190, 560
    height = len(scripts) * (len(names) * bar + gap) + 30
    parts = [f'<svg width="{left + width + 60}" height="{height}" role="img" aria-label="median premium by script">']
    y = 20
    x1 = left + width / top
    parts.append(f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="10" y2="{height - 10}" stroke="#999" stroke-dasharray="3"/>')
    parts.append(f'<text x="{x1 + 3:.1f}" y="12">1× (pivot)</text>')
    for script, row in scripts:
        count = sum(1 for r in report.rows if r.script_name == script)
        parts.append(f'<text x="0" y="{y + len(names) * bar / 2 + 4:.0f}">{_esc(script)} ({count})</text>')
        for k, name in enumerate(names):
            if row[name] is None:  # every language of the script is lossy with this tokenizer
                continue
            w = width * row[name] / top
            fill = colour(k, CATEGORICAL)
            parts.append(
                f'<rect x="{left}" y="{y + k * bar}" width="{w:.1f}" height="{bar - 1}" fill="{fill}">'
                f"<title>{_esc(script)} · {_esc(name)}: median premium {row[name]:.2f}</title></rect>"
            )
        y += len(names) * bar + gap
    parts.append("</svg>")
    legend = "".join(
        f'<span style="background:{colour(k, CATEGORICAL)};color:#fff">{_esc(n)}</span>' for k, n in enumerate(names)
    )
    return "<h2>Median premium by script</h2><p class=legend>" + legend + "</p>" + "".join(parts)


def _dearest(report: LanguageReport) -> str:
    names = {r.code: r.name for r in report.rows}
    items = []
    for t in report.tokenizers:
        langs = ", ".join(f"{_esc(names.get(c, c))} {p:.1f}×" for c, p in t.dearest)
        items.append(f"<li><b>{_esc(t.name)}</b>: {langs}</li>")
    n = len(report.tokenizers[0].dearest) if report.tokenizers else 0
    return f"<h2>The {n} most expensive languages per tokenizer</h2><ul class=notes>" + "".join(items) + "</ul>"


def _heatmap(report: LanguageReport) -> str:
    names = [t.name for t in report.tokenizers]
    head = "<thead><tr><th>language<th>code<th>script" + "".join(f"<th data-num>{_esc(n)}" for n in names)
    head += "<th data-num>characters</tr></thead>"
    body = []
    for r in report.rows:
        cells = []
        for n in names:
            c = r.cells[n]
            lossy = c.roundtrip_loss > report.lossy_above
            tip = (
                f"{c.tokens:,} tokens · {c.bytes_per_token:.2f} bytes/token · byte tokens {c.byte_share:.1%} · "
                f"unknown {c.unk_share:.1%} · round trip loses {c.roundtrip_loss:.1%}"
            )
            cls = " class=lossy" if lossy else ""
            cells.append(
                f'<td{cls} data-v="{c.premium}" style="background:{heat(c.premium)}" title="{_esc(tip)}">'
                f"{c.premium:.2f}"
            )
        body.append(
            f"<tr><td>{_esc(r.name)}<td>{_esc(r.code)}<td class=scripts>{_esc(r.script_name)}"
            + "".join(cells)
            + f"<td data-v={r.chars}>{r.chars:,}</tr>"
        )
    return (
        "<h2>Premium per language</h2><p class=meta>Tokens over the pivot's for the same segments; click a column "
        f"to sort. Struck through: the round trip loses over {report.lossy_above:.0%} of the text (unknown tokens, "
        "a rewritten script), so the count is of another text.</p><table class=heat>" + head + "<tbody>" + "".join(body)
        + "</tbody></table>"
    )  # fmt: skip


def _notes(report: LanguageReport) -> str:
    if not report.notes and not report.left_out:
        return ""
    groups: dict[str, list[str]] = {}
    for note in report.notes:
        groups.setdefault(note.kind, []).append(f"{note.language}: {note.message}" if note.language else note.message)
    items = "".join(
        f"<li><b>{_esc(kind)}</b> ({len(msgs)}): {_esc('; '.join(msgs[:12]))}{' …' if len(msgs) > 12 else ''}</li>"
        for kind, msgs in groups.items()
    )
    left = "; ".join(f"{code}: {why}" for code, why in report.left_out.items())
    items += f"<li><b>left out</b> ({len(report.left_out)}): {_esc(left)}</li>" if report.left_out else ""
    return "<h2>Notes on the input</h2><ul class=notes>" + items + "</ul>"


def report_fragment(report: LanguageReport, *, standalone: bool = True) -> str:
    """The report's body: with the sorting script for a page of its own (``standalone``), with its styles for
    Jupyter (which runs no inline script)."""
    intro = (
        f"<h1>Token premiums by language</h1><p class=meta>{len(report.rows)} languages of {_esc(report.source)}; "
        f"pivot {_esc(report.pivot)}; {len(report.tokenizers)} tokenizers; measured in {report.seconds:.1f} s.</p>"
    )
    parts = [intro, _summary(report), _script_chart(report), _dearest(report), _heatmap(report), _notes(report)]
    return "".join(parts) + (_SORT if standalone else f"<style>{_CSS}</style>")


def report_html(report: LanguageReport) -> str:
    return page("Token premiums by language", [report_fragment(report)], css=_CSS)
