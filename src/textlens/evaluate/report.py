"""Reports of an evaluation: terminal table, Markdown, one self-contained HTML page, TREC runs."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from textlens.evaluate.metrics import METRICS
from textlens.evaluate.references import references_for
from textlens.html import colour, page

if TYPE_CHECKING:  # the result types, for annotations only (they import this module to render)
    from textlens.evaluate.runner import EvalResult


def first_relevant_rank(result: EvalResult, mode: str, qid: str) -> int | None:
    """1-based rank of the first relevant document in a mode's run (None if not retrieved)."""
    rel = {d for d, r in result.data.qrels[qid].items() if r > 0} if result.data else set()
    for rank, doc in enumerate(result.runs[mode].get(qid, {}), 1):
        if doc in rel:
            return rank
    return None


def terminal_table(result: EvalResult) -> Table:
    table = Table(title=f"{result.dataset} ({result.split}, {result.queries} queries)", title_justify="left")
    table.add_column("mode")
    for m in METRICS:
        table.add_column(m, justify="right")
    table.add_column("seconds", justify="right")
    best = {m: max(r[m] for r in result.results.values()) for m in METRICS}
    for mode, scores in result.results.items():
        cells = [f"[bold green]{scores[m]:.4f}[/]" if scores[m] == best[m] else f"{scores[m]:.4f}" for m in METRICS]
        table.add_row(mode, *cells, f"{result.seconds.get(mode, 0):.1f}")
    for ref in references_for(result.dataset):
        table.add_row(f"[dim]{ref.system} (published)[/]", f"[dim]{ref.ndcg10:.3f}[/]", *[""] * (len(METRICS) - 1), "")
    return table


def markdown(result: EvalResult) -> str:
    lines = [
        f"## {result.dataset} ({result.split}, {result.queries} queries)",
        "",
        "| mode | " + " | ".join(METRICS) + " | seconds |",
        "|---|" + "---:|" * (len(METRICS) + 1),
    ]
    for mode, scores in result.results.items():
        lines.append(
            f"| {mode} | " + " | ".join(f"{scores[m]:.4f}" for m in METRICS) + f" | {result.seconds.get(mode, 0):.1f} |"
        )
    refs = references_for(result.dataset)
    if refs:
        lines += ["", "Published (nDCG@10):", "", "| system | compare with | nDCG@10 | source |", "|---|---|---:|---|"]
        lines += [f"| {r.system} | {r.compares_with} | {r.ndcg10:.3f} | {r.source} |" for r in refs]
    if result.significance:
        lines += ["", "Paired t-test p-values, nDCG@10:", ""]
        modes = list(result.significance)
        lines += ["| | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
        lines += [
            f"| {a} | " + " | ".join("" if a == b else f"{result.significance[a][b]:.4f}" for b in modes) + " |"
            for a in modes
        ]
    if result.problems:
        lines += ["", "Dropped: " + "; ".join(f"{v} {k}" for k, v in result.problems.items())]
    return "\n".join(lines) + "\n"


_CSS = ".win{background:#e3f4e6}.loss{background:#fbe4e4}"


def _chart(result: EvalResult) -> str:
    modes = list(result.results)
    width, bar, gap = 150, 18, 4
    height = 40 + len(modes) * (bar + gap)
    parts = [f'<svg width="{width * len(METRICS) + 20}" height="{height}" role="img">']
    for i, m in enumerate(METRICS):
        x0 = 10 + i * width
        parts.append(f'<text x="{x0}" y="14">{m}</text>')
        for j, mode in enumerate(modes):
            v = result.results[mode][m]
            y = 24 + j * (bar + gap)
            w = max(1, int((width - 50) * v))
            parts.append(
                f'<rect x="{x0}" y="{y}" width="{w}" height="{bar}" fill="{colour(j)}">'
                f"<title>{html.escape(mode)} {m} = {v:.4f}</title></rect>"
            )
            parts.append(f'<text x="{x0 + w + 3}" y="{y + 13}">{v:.3f}</text>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{colour(j)}">■</span> {html.escape(m)}' for j, m in enumerate(modes))
    return "".join(parts) + f"<p>{legend}</p>"


def html_report(result: EvalResult, *, max_queries: int = 300) -> str:
    """One page: scores, chart, references, significance, per-query wins and losses."""
    esc = html.escape
    out = [
        f"<h1>{esc(result.dataset)} <span class=muted>({esc(result.split)}, {result.queries} queries)</span></h1>",
        _chart(result),
        "<h2>Scores</h2><table><tr><th>mode" + "".join(f"<th>{m}" for m in METRICS) + "<th>seconds</tr>",
    ]
    for mode, scores in result.results.items():
        out.append(
            f"<tr><td>{esc(mode)}"
            + "".join(f"<td>{scores[m]:.4f}" for m in METRICS)
            + f"<td>{result.seconds.get(mode, 0):.1f}</tr>"
        )
    out.append("</table>")
    refs = references_for(result.dataset)
    if refs:
        out.append(
            "<h2>Published references (nDCG@10)</h2><table><tr><th>system<th>compare with<th>nDCG@10"
            "<th>ours<th>source</tr>"
        )
        for r in refs:
            ours = next(
                (
                    s["ndcg@10"]
                    for m, s in result.results.items()
                    if m.split("[")[0] == r.compares_with or (r.compares_with == "rerank" and m.endswith("+rerank"))
                ),
                None,
            )
            out.append(
                f"<tr><td>{esc(r.system)}<td>{r.compares_with}<td>{r.ndcg10:.3f}"
                f"<td>{'' if ours is None else f'{ours:.4f}'}<td>{esc(r.source)}</tr>"
            )
        out.append("</table>")
    if result.significance:
        modes = list(result.significance)
        out.append("<h2>Paired t-test p-values (nDCG@10)</h2><table><tr><th>" + "".join(f"<th>{esc(m)}" for m in modes))
        for a in modes:
            out.append(
                f"<tr><td>{esc(a)}"
                + "".join("<td>" if a == b else f"<td>{result.significance[a][b]:.4f}" for b in modes)
                + "</tr>"
            )
        out.append("</table>")
    out.append(_per_query(result, max_queries))
    if result.problems:
        out.append("<p class=muted>Dropped: " + esc("; ".join(f"{v} {k}" for k, v in result.problems.items())) + "</p>")
    return page(f"textlens eval: {result.dataset}", out, css=_CSS)


def _per_query(result: EvalResult, limit: int) -> str:
    if result.data is None:
        return ""
    modes = list(result.results)
    esc = html.escape
    rows = [
        "<h2>Per query</h2><p class=muted>nDCG@10 per mode and the rank of the first relevant document; "
        "green: best mode for the query, red: worst. Sorted by the largest difference between modes.</p>",
        "<table><tr><th>query<th>relevant" + "".join(f"<th>{esc(m)}" for m in modes) + "</tr>",
    ]
    per = {m: result.per_query[m]["ndcg@10"] for m in modes}
    qids = sorted(
        result.data.queries,
        key=lambda q: -(max(per[m].get(q, 0) for m in modes) - min(per[m].get(q, 0) for m in modes)),
    )
    for qid in qids[:limit]:
        values = [per[m].get(qid, 0.0) for m in modes]
        hi, lo = max(values), min(values)
        rel = ", ".join(d for d, r in result.data.qrels[qid].items() if r > 0)
        cells = []
        for m, v in zip(modes, values, strict=True):
            cls = " class=win" if v == hi and hi > lo else (" class=loss" if v == lo and hi > lo else "")
            rank = first_relevant_rank(result, m, qid)
            cells.append(f"<td{cls}>{v:.3f} <span class=muted>#{rank if rank else '–'}</span>")
        rows.append(f"<tr><td>{esc(qid)}: {esc(result.data.queries[qid])}<td>{esc(rel)}" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def save_trec_runs(result: EvalResult, folder: Path) -> list[Path]:
    """One TREC run file per mode: ``qid Q0 docid rank score tag``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mode, run in result.runs.items():
        tag = "textlens-" + "".join(c if c.isalnum() else "_" for c in mode)
        path = folder / f"{result.dataset}-{result.split}-{tag}.trec"
        with path.open("w", encoding="utf-8") as fh:
            for qid, docs in run.items():
                for rank, (doc, score) in enumerate(docs.items(), 1):
                    fh.write(f"{qid} Q0 {doc} {rank} {score:g} {tag}\n")
        paths.append(path)
    return paths
