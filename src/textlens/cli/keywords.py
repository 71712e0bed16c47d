"""``textlens keywords``: KeyBERT-style keywords of a text, a corpus file or collection documents."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textlens.cli.common import handle_errors, read_text_input, staged_progress
from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError

console = Console()
CORPUS_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".gz")


def _sources(text: str | None, file: Path | None, collection: str | None, doc_ids: list[str], fields):
    """The documents to extract from (:mod:`textlens.corpus.sources`)."""
    from textlens.corpus.sources import from_collection, from_path, from_text

    if sum(x is not None for x in (text, file, collection)) != 1:
        raise InputError(
            "give exactly one of TEXT, --file PATH or --collection NAME",
            hint='For example: textlens keywords "some text", or --file notes.jsonl, or --collection wiki --doc 42.',
        )
    if collection is not None:
        if not doc_ids:
            raise InputError("--collection needs --doc ID (repeat it for several documents)")
        return from_collection(collection, doc_ids)
    if file is not None and (file.is_dir() or file.name.lower().endswith(CORPUS_SUFFIXES)):
        return from_path(file, fields)
    return from_text(read_text_input(text, file) or "", str(file) if file else "text")


@handle_errors
def keywords_cmd(
    text: str = typer.Argument(None, help="The text; - reads standard input."),
    file: Path = typer.Option(None, "--file", help="A text file (one document) or a corpus (JSONL, CSV, Parquet)."),
    collection: str = typer.Option(None, "--collection", help="Take documents from this collection..."),
    doc: list[str] = typer.Option([], "--doc", help="...by id (repeat for several)."),
    ngram_range: tuple[int, int] = typer.Option((1, 1), "--ngram-range", help="Fewest and most words per phrase."),
    top_n: int = typer.Option(5, "--top-n"),
    language: str = typer.Option("english", "--language", help="Stop words and stemmer; several: english,french."),
    stop_words: Path = typer.Option(None, "--stop-words", help="Your stop word list, one per line."),
    candidates: str = typer.Option(None, "--candidates", help="Rank only these comma-separated phrases."),
    diversity: float = typer.Option(None, "--diversity", help="Maximal Marginal Relevance, 0 to 1."),
    max_sum: bool = typer.Option(False, "--max-sum", help="Max Sum Similarity over --nr-candidates."),
    nr_candidates: int = typer.Option(20, "--nr-candidates"),
    seed_keywords: str = typer.Option(None, "--seed-keywords", help="Comma-separated words to steer toward."),
    no_merge: bool = typer.Option(False, "--no-merge", help="Keep forms with the same stems apart."),
    order: str = typer.Option("score", "--order", help="score, or text (order of first occurrence)."),
    text_field: str = typer.Option("text", "--text-field"),
    id_field: str = typer.Option("id", "--id-field"),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder"),
    show_text: bool = typer.Option(None, "--show-text/--no-text", help="Print texts with keywords marked."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per document."),
    html_out: Path = typer.Option(None, "--html", help="Write a page with the keywords marked in each text."),
) -> None:
    """Keywords by KeyBERT's method: candidate phrases ranked by similarity to the document."""
    from textlens.corpus import FieldMap
    from textlens.keywords import extract_keywords

    source = _sources(text, file, collection, doc, FieldMap(id=id_field, text=text_field, title=None, metadata=[]))
    ids, texts = source.ids, source.texts
    words = None
    if stop_words is not None:
        if not stop_words.is_file():
            raise InputError(f"--stop-words {stop_words} is not a file", hint="One stop word per line.")
        words = [w.strip() for w in stop_words.read_text(encoding="utf-8").splitlines() if w.strip()]
    with staged_progress(disable=as_json or len(texts) < 50) as progress:
        results = extract_keywords(
            texts,
            encoder=encoder,
            ngram_range=ngram_range,
            top_n=top_n,
            languages=language.split(","),
            stop_words=words,
            candidates_given=_split(candidates),
            diversity=diversity,
            max_sum=max_sum,
            nr_candidates=nr_candidates,
            seed_keywords=_split(seed_keywords),
            merge=not no_merge,
            order=order,
            progress=progress,
        )
    if html_out is not None:
        from textlens.atomic import atomic_open
        from textlens.keywords.render import keywords_html

        with atomic_open(html_out, "w", encoding="utf-8") as fh:
            fh.write(keywords_html(results, ids))
    if as_json:
        for doc_id, result in zip(ids, results, strict=True):
            typer.echo(json.dumps({"id": doc_id, **result.to_dict()}, ensure_ascii=False))
        return
    _print(ids, results, show_text if show_text is not None else len(ids) <= 5)
    if html_out is not None:
        console.print(f"wrote {html_out}")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _print(ids: list[str], results: list, show_text: bool) -> None:
    from textlens.keywords.render import highlighted

    if not show_text:
        table = Table("id", "keywords", title_justify="left")
        for doc_id, result in zip(ids, results, strict=True):
            table.add_row(escape(doc_id), escape(", ".join(k.phrase for k in result.keywords) or result.note or ""))
        console.print(table)
        return
    for doc_id, result in zip(ids, results, strict=True):
        console.rule(escape(doc_id), align="left")
        if result.note:
            console.print(f"[yellow]{escape(result.note)}[/]")
            continue
        table = Table("#", "keyword", "score", "also", title_justify="left")
        for rank, kw in enumerate(result.keywords, 1):
            table.add_row(str(rank), escape(kw.phrase), f"{kw.score:.3f}", escape(", ".join(kw.variants)))
        console.print(table)
        console.print(highlighted(result))
