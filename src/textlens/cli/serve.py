"""``textlens serve``: the REST API on uvicorn."""

from __future__ import annotations

import os

import typer

from textlens.cli.common import handle_errors


@handle_errors
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port"),
    collection: list[str] = typer.Option(None, "--collection", "-c", help="Serve only these collections."),
    cors: list[str] = typer.Option(None, "--cors-origin", help="Allow browser requests from this origin."),
) -> None:
    """Serve the REST API (OpenAPI at /docs). Write endpoints need TEXTLENS_API_KEY when it is set."""
    import uvicorn

    from textlens.server import ServerSettings, create_app
    from textlens.server.security import check_bind

    api_key = os.environ.get("TEXTLENS_API_KEY") or None
    check_bind(host, api_key)
    settings = ServerSettings(api_key=api_key, collections=tuple(collection or ()), cors_origins=tuple(cors or ()))
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
