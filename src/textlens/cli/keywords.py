"""``textlens keywords``: KeyBERT-style keywords of a text, a corpus file or collection documents."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textlens.cli.common import handle_errors, load_llm, read_text_input, staged_progress
from textlens.cli.options import with_options
from textlens.errors import InputError
from textlens.keywords.options import KeywordOptions

console = Console()
err = Console(stderr=True)
CORPUS_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".gz")


def _sources(text: str | None, file: Path | None, collection: str | None, doc_ids: list[str], fields):
    """The documents to extract from (:mod:`textlens.corpus.sources`)."""
    from textlens.corpus.sources import from_path, from_text
    from textlens.index.sources import from_collection

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
@with_options(KeywordOptions)
def keywords_cmd(
    text: str = typer.Argument(None, help="The text; - reads standard input."),
    file: Path = typer.Option(None, "--file", help="A text file (one document) or a corpus (JSONL, CSV, Parquet)."),
    collection: str = typer.Option(None, "--collection", help="Take documents from this collection..."),
    doc: list[str] = typer.Option([], "--doc", help="...by id (repeat for several)."),
    stop_words: Path = typer.Option(None, "--stop-words", help="Your stop word list, one per line."),
    text_field: str = typer.Option("text", "--text-field"),
    id_field: str = typer.Option("id", "--id-field"),
    show_text: bool = typer.Option(None, "--show-text/--no-text", help="Print texts with keywords marked."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per document."),
    html_out: Path = typer.Option(None, "--html", help="Write a page with the keywords marked in each text."),
    output: Path = typer.Option(None, "--output", help="With --llm: JSONL written as documents finish; resumable."),
    llm_timeout: float = typer.Option(120.0, "--llm-timeout", help="Seconds an openai: server may take per call."),
    options: KeywordOptions = None,
) -> None:
    """Keywords by KeyBERT's method (candidate phrases ranked by similarity to the document), or by a
    language model (--llm), every keyword found in the text."""
    from textlens.corpus import FieldMap
    from textlens.keywords import find_keywords

    source = _sources(text, file, collection, doc, FieldMap(id=id_field, text=text_field, title=None, metadata=[]))
    ids, texts = source.ids, source.texts
    if stop_words is not None:
        if not stop_words.is_file():
            raise InputError(f"--stop-words {stop_words} is not a file", hint="One stop word per line.")
        words = [w.strip() for w in stop_words.read_text(encoding="utf-8").splitlines() if w.strip()]
        options = options.replace(stop_words=tuple(words))
    if options.llm is None and output is not None:
        raise InputError("--output goes with --llm", hint="Add --llm MODEL, or leave it out.")
    if options.llm is not None:
        generator = load_llm(options.llm, threads=None, context=None, timeout=llm_timeout, tokenizer=None)
        results = _llm_keywords(ids, texts, options.replace(llm=generator), output, quiet=as_json)
        ids = [i for i in ids if i in results]
        _show(ids, [results[i] for i in ids], html_out, as_json, show_text)
        return
    with staged_progress(disable=as_json or len(texts) < 50) as progress:
        results = find_keywords(texts, options, progress=progress)
    _show(ids, results, html_out, as_json, show_text)


def _show(ids: list[str], results: list, html_out: Path | None, as_json: bool, show_text: bool | None) -> None:
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


def _llm_keywords(ids, texts, options, output, quiet) -> dict:
    """Keywords of each document by the LLM, as ``{id: KeywordResult}``; with ``output``, each
    document's line is written as it finishes and documents already there are not asked again."""
    from textlens.keywords import KeywordResult, find_keywords
    from textlens.llm import LLMError
    from textlens.resume import ResumableOutput

    store = ResumableOutput(output) if output is not None else None
    done = store.done if store is not None else {}
    todo = [n for n, doc_id in enumerate(ids) if doc_id not in done]
    if store is not None and done:
        err.print(f"{output}: {len(ids) - len(todo):,} of {len(ids):,} documents done already", style="dim")
    found: dict[str, KeywordResult] = {}

    def keep(n: int, result: KeywordResult) -> None:
        doc_id = ids[todo[n]]
        found[doc_id] = result
        if store is not None:
            store.write({"id": doc_id, **result.to_dict()})

    try:
        with staged_progress(disable=quiet or len(todo) < 2) as progress:
            run = find_keywords([texts[n] for n in todo], options, on_result=keep, progress=progress)
    except LLMError as exc:
        if store is None:
            raise
        raise type(exc)(
            f"{exc.message} ({len(ids) - len(todo) + len(found):,} of {len(ids):,} documents are done and saved "
            f"in {output})",
            hint="Run the same command again: it goes on from the first document not done.",
        ) from exc
    finally:
        if store is not None:
            store.close()
    if not quiet:
        shared = f", near-duplicate threshold {run.threshold}" if run.threshold is not None else ""
        err.print(f"{run.calls:,} model call(s) for {len(todo):,} document(s) in {run.seconds:.1f} s{shared}",
                  style="dim")  # fmt: skip
    position = {doc_id: n for n, doc_id in enumerate(ids)}
    for doc_id, row in done.items():  # finished in an earlier run: as they were saved
        if doc_id in position:
            found.setdefault(doc_id, _from_row(row, texts[position[doc_id]]))
    return found


def _from_row(row: dict, text: str):
    from textlens.keywords import Keyword, KeywordResult

    kws = [
        Keyword(k["keyword"], k["score"], [tuple(s) for s in k["spans"]], k["variants"], k["grounded"])
        for k in row["keywords"]
    ]
    return KeywordResult(text, kws, row.get("note"))


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
            phrase = kw.phrase if kw.grounded else f"{kw.phrase} (not in the text)"
            table.add_row(str(rank), escape(phrase), f"{kw.score:.3f}", escape(", ".join(kw.variants)))
        console.print(table)
        console.print(highlighted(result))
