"""``textlens serve``: the REST API on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from textlens.cli.common import backend_option, handle_errors, use_backend
from textlens.config import DEFAULT_ENCODER, DEFAULT_LLM


def default_search_workers() -> int:
    """One search process per core where there is more than one core, else none."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if cores > 1 else 0


@handle_errors
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port"),
    collection: list[str] = typer.Option(None, "--collection", "-c", help="Serve only these collections."),
    cors: list[str] = typer.Option(None, "--cors-origin", help="Allow browser requests from this origin."),
    allowed_host: list[str] = typer.Option(
        None,
        "--allowed-host",
        help="Also answer requests whose Host header names this (besides localhost, 127.0.0.1, [::1] and --host); "
        "'*' turns the check off (only behind a proxy that checks it).",
    ),
    encoder: list[str] = typer.Option(
        None, "--encoder", help=f"Embedding models clients may name for new collections (default {DEFAULT_ENCODER})."
    ),
    reranker: list[str] = typer.Option(None, "--reranker", help="Rerankers (id or folder) clients may name."),
    data_dir: list[Path] = typer.Option(
        None, "--data-dir", help="Folders whose BEIR sets, qrels and queries clients may evaluate."
    ),
    preload: bool = typer.Option(
        True,
        "--preload/--no-preload",
        help="Load the served collections' encoders and the UI's tokenizers at start (/healthz: ready).",
    ),
    llm: str = typer.Option(
        DEFAULT_LLM,
        "--llm",
        help="The model that answers questions (ask): a pulled catalog name, a .gguf path or openai:URL.",
    ),
    no_llm: bool = typer.Option(False, "--no-llm", help="Answer no questions (ask is refused with 403)."),
    llm_threads: int = typer.Option(None, "--llm-threads", help="CPU threads for a local LLM (default: all)."),
    inside_model: list[str] = typer.Option(
        None,
        "--inside-model",
        help="Models clients may look inside (default smollm2-135m and the default encoder; pulled, never downloaded).",
    ),
    search_workers: int = typer.Option(
        None,
        "--search-workers",
        min=0,
        help="Processes that answer searches (default: one per core when there are several; 0: the server "
        "process alone, one core). Each loads the served collections' encoders.",
    ),
    log_level: str = typer.Option(
        None, "--log-level", help="debug, info, warning or error (default TEXTLENS_LOG_LEVEL or info)."
    ),
    backend: str = backend_option(),
) -> None:
    """Serve the REST API and web UI (OpenAPI at /docs). Write endpoints need TEXTLENS_API_KEY when it is set.

    Clients load only what this command allows: the collections (-c), encoders, rerankers, data folders
    and the one LLM (--llm; pull it first: the server never downloads a model).
    """
    use_backend(backend)
    import uvicorn

    from textlens.logs import configure, level_from_env
    from textlens.server import ServerSettings, create_app
    from textlens.server.security import check_bind

    level = log_level or level_from_env("info")
    configure(level)
    api_key = os.environ.get("TEXTLENS_API_KEY") or None
    check_bind(host, api_key)
    settings = ServerSettings(
        api_key=api_key,
        collections=tuple(collection or ()),
        cors_origins=tuple(cors or ()),
        encoders=tuple(encoder or (DEFAULT_ENCODER,)),
        rerankers=tuple(reranker or ()),
        data_dirs=tuple(d.resolve() for d in data_dir or ()),
        host=host,
        allowed_hosts=tuple(allowed_host or ()),
        preload=preload,
        llm=None if no_llm else llm,
        llm_threads=llm_threads,
        search_workers=default_search_workers() if search_workers is None else search_workers,
        **({"inside_models": tuple(inside_model)} if inside_model else {}),
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=level, access_log=False)
