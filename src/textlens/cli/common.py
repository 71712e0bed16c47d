"""Helpers shared by the CLI command groups."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from textlens.errors import InputError, TextlensError
from textlens.tokens.stats import InvalidUTF8, decode_reporting

F = TypeVar("F", bound=Callable[..., Any])
MAX_TEXT_BYTES = 10_000_000
err_console = Console(stderr=True)
BACKEND_HELP = "Where collections live: local (folders under TEXTLENS_HOME) or a postgresql:// URL (pgvector)."


def backend_option() -> Any:
    return typer.Option(None, "--backend", envvar="TEXTLENS_BACKEND", help=BACKEND_HELP, show_envvar=True)


def use_backend(backend: str | None) -> None:
    """Make ``backend`` the one every collection of this command lives in (``TEXTLENS_BACKEND``)."""
    if backend:
        os.environ["TEXTLENS_BACKEND"] = backend


def handle_errors(func: F) -> F:
    """Print a :class:`TextlensError` as a message and hint, exit with status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TextlensError as exc:
            err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
            if exc.hint:
                err_console.print(f"[bold]hint:[/] {escape(exc.hint)}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def progress_bar(disable: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=disable,
    )


@contextlib.contextmanager
def staged_progress(disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr."""
    with progress_bar(disable=disable) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done)

        yield progress


def read_text_input(text: str | None, file: Path | None) -> str | None:
    """The text to work on: an argument, ``-`` for stdin, or ``--file``.

    Invalid UTF-8 is replaced with U+FFFD and reported on stderr with its place.
    Returns ``None`` when neither is given.
    """
    if text is not None and file is not None:
        raise InputError("give either TEXT or --file, not both")
    if file is not None:
        if not file.is_file():
            raise InputError(f"{file} is not a file", hint="Check the path.")
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise InputError(
                f"{file} is {size / 1e6:.0f} MB; compare shows every token and is meant for texts up to "
                f"{MAX_TEXT_BYTES / 1e6:.0f} MB.",
                hint=f"Count tokens of large files with: textlens tokens stats {file}",
            )
        data, label = file.read_bytes(), str(file)
    elif text == "-":
        data, label = sys.stdin.buffer.read(), "<stdin>"
    else:
        return text
    report = InvalidUTF8(label)
    decoded = decode_reporting(data, base_offset=0, base_line=1, report=report)
    if report.count:
        where = ", ".join(f"line {p['line']} byte {p['byte']}" for p in report.first)
        err_console.print(
            f"[yellow]warning:[/] {label}: {report.count} byte(s) are not UTF-8 and were "
            f"replaced with U+FFFD (first at {where})",
            highlight=False,
        )
    return decoded


def load_llm(llm: str, *, threads: int | None, context: int | None, timeout: float, tokenizer: str | None):
    """The generator, pulling a catalog model with a progress bar on first use."""
    from textlens.llm import get_generator

    with staged_progress() as progress:
        return get_generator(
            llm, threads=threads, context_size=context, timeout=timeout, tokenizer=tokenizer, progress=progress
        )
