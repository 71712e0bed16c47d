"""Topic outputs: per-document assignments (JSONL or CSV), a self-contained HTML page (a 2-D map
of the documents coloured by topic and a bar chart of each topic's top words, inline SVG, no
scripts) and the same two charts as a PNG (matplotlib)."""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from textlens.atomic import atomic_open
from textlens.errors import MissingDependency
from textlens.html import CATEGORICAL, page
from textlens.html import colour as palette_colour

if TYPE_CHECKING:  # the result types, for annotations only (they import this module to render)
    from textlens.topics.model import TopicModel

MAX_POINTS = 20_000
MAX_BARS = 24


def colour(topic: int) -> str:
    """A topic's colour; the outliers (topic -1) are grey."""
    return palette_colour(topic, CATEGORICAL)


def assignment_rows(model: TopicModel, ids: Sequence[str], titles: Sequence[str] | None = None) -> list[dict]:
    """One row per document: id, topic, its label, similarity to the topic and the title."""
    sims = model.similarity_to_topic()
    rows = []
    for n, doc_id in enumerate(ids):
        topic = model.topic_of(n)
        rows.append(
            {
                "id": doc_id,
                "topic": int(model.labels[n]),
                "topic_label": topic.label if topic else "outlier",
                "similarity": round(float(sims[n]), 4),
                "title": titles[n] if titles else "",
                "topic_name": (topic.name or "") if topic else "",
            }
        )
    return rows


def write_assignments(path: Path, rows: list[dict]) -> None:
    """JSONL, or CSV when the name ends in ``.csv``."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        if path.suffix.lower() == ".csv":
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id", "topic"])
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _scatter_svg(model: TopicModel, xy: np.ndarray, names: Sequence[str], width: int = 900, height: int = 640) -> str:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1)
    pts = (xy - lo) / span * [width - 20, height - 20] + 10
    idx = np.arange(len(xy))
    if len(idx) > MAX_POINTS:  # an even sample keeps the page light
        idx = idx[:: int(np.ceil(len(idx) / MAX_POINTS))]
    tips = len(idx) <= 5000
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        'aria-label="documents by topic">'
    ]
    for i in sorted(idx, key=lambda i: model.labels[i] >= 0):  # outliers underneath
        x, y = pts[i]
        title = f"<title>{html.escape(names[i][:120])}</title>" if tips else ""
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{colour(int(model.labels[i]))}">{title}</circle>')
    out.append("</svg>")
    return "".join(out)


def _bars_svg(words: list[tuple[str, float]], fill: str, n: int = 8) -> str:
    words = words[:n]
    top = max((w for _, w in words), default=1) or 1
    rows = []
    for k, (word, weight) in enumerate(words):
        y = k * 18
        rows.append(
            f'<text x="118" y="{y + 12}" text-anchor="end">{html.escape(word[:18])}</text>'
            f'<rect x="122" y="{y + 2}" width="{weight / top * 130:.1f}" height="13" fill="{fill}"/>'
        )
    return f'<svg width="260" height="{len(words) * 18 + 4}" class="bars">{"".join(rows)}</svg>'


_CSS = """
td,th{text-align:left;vertical-align:top}.num{text-align:right}
.grid{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #ddd;border-radius:6px;padding:.4rem .6rem}
.card h3{font-size:.95rem;margin:.1rem 0 .3rem}.bars text{font:11px system-ui,sans-serif}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.3em}
svg circle{fill-opacity:.75}.meta{color:#555}
"""


def topics_html(
    model: TopicModel, xy: np.ndarray, names: Sequence[str], *, title: str = "topics", quality: dict | None = None
) -> str:
    """The page: summary, 2-D map, bar charts of top words, and the topic table."""
    n = len(model.labels)
    out = [
        f"<h1>textlens: {html.escape(title)}</h1>",
        f'<p class="meta">{n:,} documents, {len(model.topics)} topics, '
        f"{model.outlier_share:.1%} in no topic (grey).</p>",
    ]
    if quality:
        out.append('<p class="meta">' + ", ".join(f"{k}: {_fmt(v)}" for k, v in quality.items()) + "</p>")
    out += ["<h2>Documents by topic</h2>", _scatter_svg(model, xy, names), "<h2>Top words per topic</h2>"]
    out.append('<div class="grid">')
    for t in model.topics[:MAX_BARS]:
        out.append(
            f'<div class="card"><h3><span class="sw" style="background:{colour(t.id)}"></span>'
            f"{t.id} {html.escape(t.name or '')} ({t.size:,})</h3>{_bars_svg(t.words, colour(t.id))}</div>"
        )
    out.append(
        "</div><h2>Topics</h2><table><tr><th>id</th><th>label</th><th>size</th><th>keywords</th>"
        "<th>representative documents</th></tr>"
    )
    for t in model.topics:
        reps = "<br>".join(html.escape(names[i][:100]) for i in t.representative)
        out.append(
            f'<tr><td>{t.id}</td><td>{html.escape(t.name or "")}</td><td class="num">{t.size:,}</td>'
            f"<td>{html.escape(', '.join(w for w, _ in t.words))}</td><td>{reps}</td></tr>"
        )
    out.append("</table>")
    return page(f"textlens: {title}", out, css=_CSS)


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def topics_png(model: TopicModel, xy: np.ndarray, path: Path, *, title: str = "topics") -> None:
    """The map and the top-word bars of the eight largest topics, as one PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependency("a PNG needs matplotlib", hint="pip install 'textlens[topics]'.") from exc
    shown = model.topics[:8]
    fig = plt.figure(figsize=(16, 8), dpi=110)
    ax = fig.add_axes((0.02, 0.05, 0.46, 0.88))
    order = np.argsort(model.labels >= 0, kind="stable")
    ax.scatter(xy[order, 0], xy[order, 1], s=3, c=[colour(int(model.labels[i])) for i in order], linewidths=0)
    ax.set_title(
        f"{title}: {len(model.labels):,} documents, {len(model.topics)} topics "
        f"({model.outlier_share:.1%} outliers, grey)"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for k, t in enumerate(shown):
        bx = fig.add_axes((0.56 + (k % 2) * 0.23, 0.76 - (k // 2) * 0.235, 0.14, 0.17))
        words = t.words[:6][::-1]
        bx.barh([w for w, _ in words], [s for _, s in words], color=colour(t.id))
        bx.set_title(f"topic {t.id} ({t.size:,})", fontsize=9)
        bx.tick_params(labelsize=8)
        bx.set_xticks([])
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)
