"""Terminal rendering of comparisons and corpus statistics (rich)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from textlens.html import colour
from textlens.tokens.analysis import Segment, TokenizerReport
from textlens.tokens.compare import Comparison
from textlens.tokens.stats import CorpusStats

# Background colours cycled over segments; readable with light and dark themes.
KIND_STYLE = {"special": "bold white on #555555", "unk": "bold white on red", "bytes": "bold black on yellow"}


def visible_whitespace(text: str) -> str:
    """Show spaces as ``·``, tabs as ``→`` and line breaks as ``↵`` (the break is kept)."""
    return text.replace(" ", "\u00b7").replace("\t", "\u2192").replace("\n", "\u21b5\n")


def segment_text(segs: list[Segment], *, show_whitespace: bool = False, show_ids: bool = False) -> Text:
    """The text cut into coloured segments, one colour per token group."""
    out = Text()
    for k, seg in enumerate(segs):
        shown = visible_whitespace(seg.text) if show_whitespace else seg.text
        style = KIND_STYLE.get(seg.kind, f"white on {colour(k)}")
        out.append(shown, style=style)
        if show_ids:
            out.append("[" + ",".join(map(str, seg.ids)) + "]", style="dim")
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _roundtrip(report: TokenizerReport) -> Text:
    if report.roundtrip.lossless:
        return Text("lossless", style="green")
    return Text(", ".join(f"{k} ×{v}" for k, v in report.roundtrip.losses.items()), style="red")


def summary_table(result: Comparison) -> Table:
    table = Table(title="Tokenizers on this text", title_justify="left")
    for col in (
        "tokenizer",
        "tokens",
        "chars/tok",
        "bytes/tok",
        "fertility",
        "UNK",
        "byte tokens",
        "specials added",
        "round trip",
    ):
        table.add_column(
            col,
            justify="right" if col not in {"tokenizer", "specials added", "round trip"} else "left",
            no_wrap=col == "tokenizer",
        )
    for r in result.reports:
        s = r.stats
        table.add_row(
            r.name,
            f"{s.count:,}",
            f"{s.chars_per_token:.2f}",
            f"{s.bytes_per_token:.2f}",
            f"{s.fertility:.2f}",
            _pct(s.unk_rate),
            _pct(s.byte_token_rate),
            " ".join(s.special_added) or "-",
            _roundtrip(r),
        )
    return table


def category_table(result: Comparison) -> Table:
    table = Table(
        title="Tokens per probe category (flags: UNK, WS lost whitespace, BYTE byte "
        "fallback/partial UTF-8, CASE, ACCENT)",
        title_justify="left",
    )
    table.add_column("category", no_wrap=True)
    names = [r.name for r in result.reports]
    for name in names:
        table.add_column(name, justify="right")
    for cat, row in result.categories.items():
        counts = [row[n].tokens for n in names]
        best = min(counts)
        cells = []
        for n in names:
            cell = row[n]
            text = Text(str(cell.tokens), style="bold green" if cell.tokens == best else "")
            if cell.flags:
                text.append(" " + " ".join(cell.flags), style="red")
            cells.append(text)
        table.add_row(cat, *cells)
    return table


def print_comparison(
    console: Console, result: Comparison, *, show_whitespace: bool = False, show_ids: bool = False
) -> None:
    """Print every tokenizer's coloured tokens, then the summary and category tables."""
    for r in result.reports:
        title = (
            f"[bold]{r.name}[/] · {r.format} · {r.vocab_size:,} ids · [bold]{r.stats.count:,} tokens[/] · {r.source}"
        )
        body = [segment_text(r.segments, show_whitespace=show_whitespace, show_ids=show_ids)]
        if not r.roundtrip.lossless:
            ex = r.roundtrip.examples[:3]
            lost = Text("round trip loses: ", style="red")
            lost.append("; ".join(f"{'/'.join(e['kinds'])}: {e['original']!r} → {e['decoded']!r}" for e in ex))
            body.append(lost)
        console.print(Panel(Group(*body), title=title, title_align="left"))
    console.print(summary_table(result))
    if result.categories:
        console.print(category_table(result))
    for name, how in result.skipped.items():
        console.print(f"[yellow]skipped {name}[/]: not available here ({how})")


def print_corpus_stats(console: Console, stats: CorpusStats) -> None:
    """Totals, per-document distribution and bytes/token per script."""
    table = Table(title=f"{stats.path}: {stats.documents:,} documents, {stats.bytes:,} bytes", title_justify="left")
    for col in ("tokenizer", "tokens", "bytes/tok", "chars/tok", "doc min", "doc p50", "doc p90", "doc p99", "doc max"):
        table.add_column(col, justify="left" if col == "tokenizer" else "right", no_wrap=col == "tokenizer")
    for t in stats.tokenizers:
        d = t.per_document
        table.add_row(
            t.name,
            f"{t.tokens:,}",
            f"{t.bytes_per_token:.2f}",
            f"{t.chars_per_token:.2f}",
            *(f"{d[k]:,.0f}" for k in ("min", "p50", "p90", "p99", "max")),
        )
    console.print(table)
    scripts = sorted(
        {s for t in stats.tokenizers for s in t.by_script},
        key=lambda s: -max(t.by_script.get(s, {}).get("bytes", 0) for t in stats.tokenizers),
    )
    by_script = Table(title="Bytes per token by script", title_justify="left")
    by_script.add_column("script")
    by_script.add_column("bytes", justify="right")
    for t in stats.tokenizers:
        by_script.add_column(t.name, justify="right")
    for s in scripts:
        nbytes = stats.tokenizers[0].by_script.get(s, {}).get("bytes", 0)
        by_script.add_row(
            s, f"{nbytes:,}", *(f"{t.by_script.get(s, {}).get('bytes_per_token', 0):.2f}" for t in stats.tokenizers)
        )
    console.print(by_script)
    for bad in stats.invalid_utf8:
        where = ", ".join(f"line {p['line']} byte {p['byte']}" for p in bad.first)
        console.print(f"[yellow]{bad.file}[/]: {bad.count} byte(s) not UTF-8, replaced with U+FFFD (first at {where})")
    for what, why in list(stats.skipped.items())[:20]:
        console.print(f"[yellow]skipped[/] {what}: {why}")
    if len(stats.skipped) > 20:
        console.print(f"[yellow]... and {len(stats.skipped) - 20} more skipped[/]")


def print_languages(console: Console, report, *, metric: str = "premium", rows: int = 0) -> None:
    """The premium report in the terminal: a line per tokenizer, then languages × tokenizers (``metric``),
    grouped by script, then the notes on the input."""
    names = {r.code: r.name for r in report.rows}
    summary = Table(title=f"Token premiums over {report.pivot} ({len(report.rows)} languages)", title_justify="left")
    for col in ("tokenizer", "median", "pivot tokens/word", "cheapest", "most expensive", f"{report.words:,} words"):
        summary.add_column(col, justify="right" if col in ("median", "pivot tokens/word") else "left", overflow="fold")
    for t in report.tokenizers:
        pivot, median = t.doc_cost(report.words), t.doc_cost(report.words, t.median_premium)
        cost = f"${pivot:.4f} {report.pivot}, ${median:.4f} median ({t.price.model})" if pivot is not None else ""
        summary.add_row(
            t.name,
            f"{t.median_premium:.2f}×",
            f"{t.pivot_tokens_per_word:.2f}",
            ", ".join(f"{names.get(c, c)} {p:.2f}" for c, p in t.cheapest[:3]),
            ", ".join(f"{names.get(c, c)} {p:.1f}" for c, p in t.dearest[:5]),
            cost,
        )
    console.print(summary)
    title = f"{metric} per language (struck: round trip loses over {report.lossy_above:.0%})"
    table = Table(title=title, title_justify="left")
    table.add_column("language", overflow="fold")
    table.add_column("code")
    table.add_column("script", overflow="fold")
    for t in report.tokenizers:
        table.add_column(t.name, justify="right")
    shown = report.rows if rows <= 0 else report.rows[:rows]
    for r in shown:
        cells = []
        for t in report.tokenizers:
            c = r.cells[t.name]
            value = getattr(c, metric)
            text = "-" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value:.3g}")
            cells.append(f"[strike dim]{text}[/]" if c.roundtrip_loss > report.lossy_above else text)
        table.add_row(r.name, r.code, r.script_name, *cells)
    console.print(table)
    if len(shown) < len(report.rows):
        console.print(f"[dim]{len(report.rows) - len(shown)} more rows: --rows 0 shows all, --csv writes them[/]")
    kinds: dict[str, list[str]] = {}
    for note in report.notes:
        kinds.setdefault(note.kind, []).append(str(note))
    for kind, lines in kinds.items():
        console.print(f"[yellow]{kind}[/] ({len(lines)}): " + "; ".join(lines[:3]) + (" ..." if len(lines) > 3 else ""))
    if report.left_out:
        left = "; ".join(f"{code}: {why}" for code, why in list(report.left_out.items())[:5])
        more = " ..." if len(report.left_out) > 5 else ""
        console.print(f"[yellow]left out[/] ({len(report.left_out)}): {left}{more}")
