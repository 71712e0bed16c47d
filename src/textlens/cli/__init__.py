"""The ``textlens`` command line: a thin shell over the library (parse, call, render)."""

from __future__ import annotations

import typer

from textlens import __version__
from textlens.cli import search
from textlens.cli.ask import ask_cmd, models_app
from textlens.cli.classify import app as classify_app
from textlens.cli.demo import demo_cmd
from textlens.cli.evaluate import eval_cmd
from textlens.cli.inside import app as inside_app
from textlens.cli.keywords import keywords_cmd
from textlens.cli.postgres import app as postgres_app
from textlens.cli.serve import serve_cmd
from textlens.cli.tokens import app as tokens_app
from textlens.cli.topics import topics_cmd
from textlens.cli.train import app as train_app

app = typer.Typer(
    name="textlens",
    help="See text the way language models do: compare tokenizers; search, evaluate and explore a corpus; "
    "ask it questions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tokens_app, name="tokens")
search.register(app)
app.command("ask")(ask_cmd)
app.add_typer(models_app, name="models")
app.command("demo")(demo_cmd)
app.command("eval")(eval_cmd)
app.command("serve")(serve_cmd)
app.command("keywords")(keywords_cmd)
app.command("topics")(topics_cmd)
app.add_typer(classify_app, name="classify")
app.add_typer(inside_app, name="inside")
app.add_typer(train_app, name="train")
app.add_typer(postgres_app, name="postgres")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textlens {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """textlens command line."""


def run() -> None:
    """Console-script entry point."""
    app()
