"""``textlens eval``: score keyword, dense, hybrid and reranked search on labelled queries."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from textlens.cli.common import backend_option, handle_errors, staged_progress, use_backend
from textlens.cli.options import with_options
from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError
from textlens.search.options import SearchOptions

console = Console()


# The search options a mode of the evaluation carries (the rest are the evaluation's own or fixed by it).
EVAL_EXCLUDES = ("k", "filters", "candidates", "group_by_document", "highlight")


@handle_errors
@with_options(SearchOptions, exclude=EVAL_EXCLUDES)
def eval_cmd(
    beir_dir: Path = typer.Argument(None, help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)."),
    split: str = typer.Option("test", "--split", help="qrels split to evaluate."),
    mode: list[str] = typer.Option(None, "--mode", "-m", help="keyword, dense, hybrid; repeat (default: all three)."),
    rerank: str = typer.Option(None, "--rerank", help="Also evaluate hybrid reranked by this cross-encoder."),
    collection: str = typer.Option(
        None,
        "--collection",
        "-c",
        help="Evaluate this collection (with --qrels and --queries), or the name to build the BEIR corpus into.",
    ),
    qrels: Path = typer.Option(None, "--qrels", help="Judgements: TREC, TSV or JSONL; graded relevance allowed."),
    queries: Path = typer.Option(None, "--queries", help="Queries: JSONL (_id/id, text) or TSV (id, text)."),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder"),
    sweep: bool = typer.Option(False, "--sweep", help="Tune --knobs on --dev-split; report them on --split."),
    knobs: str = typer.Option("bm25,fusion", "--knobs", help="What --sweep tunes: bm25, fusion, chunking."),
    dev_split: str = typer.Option("dev", "--dev-split", help="Split used to tune with --sweep."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    markdown_out: Path = typer.Option(None, "--markdown", help="Write a Markdown report here."),
    html_out: Path = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
    runs_dir: Path = typer.Option(None, "--runs", help="Save each mode's run in TREC format in this folder."),
    backend: str = backend_option(),
    options: SearchOptions = SearchOptions(),
) -> None:
    """Evaluate search: nDCG@10, MRR@10, MAP@100, Recall@100 and P@10 per mode (ranx). The options each mode
    carries (fusion, weights, bm25, title boost, the reranker's depth and weight) are textlens.search.options'."""
    use_backend(backend)
    from textlens.evaluate import evaluate_beir, evaluate_collection
    from textlens.evaluate import sweep as run_sweep

    specs = _specs(mode or ["keyword", "dense", "hybrid"], rerank, options)
    with staged_progress(disable=as_json) as progress:
        if sweep:
            if beir_dir is None:
                raise InputError("--sweep needs a BEIR folder")
            found = run_sweep(
                beir_dir,
                knobs=[k.strip() for k in knobs.split(",") if k.strip()],
                dev_split=dev_split,
                test_split=split,
                collection=collection,
                encoder=encoder,
                progress=progress,
            )
            typer.echo(json.dumps(found.to_dict(), indent=None if as_json else 2))
            return
        if beir_dir is not None:
            result = evaluate_beir(
                beir_dir, specs, split=split, collection=collection, encoder=encoder, progress=progress
            )
        elif collection and qrels and queries:
            result = evaluate_collection(collection, qrels, queries, specs, progress=progress)
        else:
            raise InputError(
                "nothing to evaluate", hint="Pass a BEIR folder, or --collection with --qrels and --queries."
            )
    _write_reports(result, markdown_out, html_out, runs_dir, as_json)


def _specs(modes: list[str], rerank: str | None, options: SearchOptions) -> list:
    """One configuration a mode, and the hybrid reranked when ``rerank`` names a cross-encoder."""
    from textlens.evaluate import ModeSpec

    shared = {"fusion": options.fusion, "weights": options.weights, "bm25": options.bm25}
    shared["title_boost"] = options.title_boost
    specs = [ModeSpec(m, **shared) for m in modes]
    if rerank:
        depth, weight = options.rerank_depth, options.rerank_weight
        specs.append(ModeSpec("hybrid", rerank=rerank, rerank_depth=depth, rerank_weight=weight, **shared))
    return specs


def _write_reports(result, markdown_out: Path | None, html_out: Path | None, runs_dir: Path | None, as_json: bool):
    """The reports asked for (Markdown, HTML, TREC runs), then the result: JSON, or a table for a person."""
    from textlens.evaluate.report import html_report, markdown, save_trec_runs, terminal_table

    if markdown_out:
        markdown_out.write_text(markdown(result), encoding="utf-8")
    if html_out:
        html_out.write_text(html_report(result), encoding="utf-8")
    if runs_dir:
        save_trec_runs(result, runs_dir)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    console.print(terminal_table(result))
    if result.problems:
        console.print("[yellow]dropped:[/] " + "; ".join(f"{v} {k}" for k, v in result.problems.items()))
    for path in filter(None, (markdown_out, html_out, runs_dir)):
        console.print(f"wrote {path}")
