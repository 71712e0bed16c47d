"""The FastAPI app factory: one router per capability, state built in ``lifespan``.

Example:
    >>> app = create_app(ServerSettings(api_key="secret"))   # uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from textlens import __version__
from textlens.errors import AssetError, InputError, TextlensError, TokenizerError
from textlens.index import CollectionError
from textlens.server.routers import collections, evaluate, keywords, tokens
from textlens.server.security import BodyLimit
from textlens.server.state import AppState, ServerSettings

STATIC = Path(__file__).parent / "static"


def _status(exc: TextlensError) -> int:
    if isinstance(exc, CollectionError):
        text = exc.message
        if text.startswith(("no collection", "no document")):
            return 404
        return 409 if "already exists" in text or "another process" in text else 400
    if isinstance(exc, AssetError):
        return 503
    if isinstance(exc, InputError | TokenizerError):
        return 404 if exc.message.startswith(("no evaluation job", "unknown tokenizer")) else 400
    return 400


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the app; nothing is shared between apps (no module-level state)."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.textlens = AppState(settings)
        yield
        app.state.textlens.close()

    app = FastAPI(
        title="textlens",
        version=__version__,
        lifespan=lifespan,
        description="Tokenizers, search, evaluation and keywords over HTTP; the same library calls as the CLI.",
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]
        )

    @app.exception_handler(TextlensError)
    async def textlens_error(_: Request, exc: TextlensError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=_status(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail, "hint": None}, status_code=exc.status_code)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in (tokens.router, collections.router, evaluate.router, keywords.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
