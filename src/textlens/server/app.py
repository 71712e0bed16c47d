"""The FastAPI app factory: one router per capability, state built in ``lifespan``.

Example:
    >>> app = create_app(ServerSettings(api_key="secret"))   # uvicorn.run(app)
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from textlens import __version__
from textlens.errors import TextlensError
from textlens.html import DARK, LIGHT
from textlens.server.errors import status_of, validation_error
from textlens.server.routers import ask, collections, evaluate, inside, keywords, tokens
from textlens.server.schemas import Health, responses
from textlens.server.security import Guard, allowed_hosts
from textlens.server.state import AppState, ServerSettings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("textlens.server")


class AccessLog:
    """ASGI middleware: a request id (``X-Request-ID``, taken from the client or made), and one log line
    per request with method, path, status and milliseconds."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"")[:64]
        rid = given.decode("latin-1") if given else uuid.uuid4().hex[:12]
        start = time.perf_counter()
        status = [0]

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - start) * 1000
                log.info("%s %s %s %d %.1f ms", rid, scope["method"], scope["path"], status[0], ms)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the app; nothing is shared between apps (no module-level state)."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state.textlens = AppState(settings)
        if settings.preload:
            threading.Thread(target=state.preload, name="textlens-preload", daemon=True).start()
        else:
            state.ready.set()
        yield
        state.close()

    app = FastAPI(
        title="textlens",
        version=__version__,
        lifespan=lifespan,
        description="Tokenizers, search, grounded answers, evaluation and keywords over HTTP; the same library calls "
        "as the CLI. Every error, whatever its status, is one shape: `{error, hint, field}`.",
        generate_unique_id_function=lambda route: route.name,  # operationIds: search, ask, add_documents...
        responses=responses(400, 403, 413, 422, 500),  # any route: a bad request, the guard, a body too large
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]
        )
    app.add_middleware(
        Guard,
        hosts=allowed_hosts(settings.host, settings.allowed_hosts),
        origins=settings.cors_origins,
        max_bytes=settings.max_body_bytes,
    )
    app.add_middleware(AccessLog)

    @app.exception_handler(TextlensError)
    async def textlens_error(request: Request, exc: TextlensError) -> JSONResponse:
        code = status_of(exc)
        log.log(logging.WARNING if code >= 500 else logging.DEBUG, "%s %s: %s", request.url.path, code, exc.message)
        public = request.app.state.textlens.public
        hint = exc.rest_hint and public(exc.rest_hint)
        return JSONResponse({"error": public(exc.message), "hint": hint}, status_code=code)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.detail == "There was an error parsing the body":  # FastAPI's word for a body it cannot decode
            return JSONResponse(validation_error([{"type": "json_invalid", "loc": ("body",)}]), status_code=422)
        hint = "GET /openapi.json lists the paths and methods." if exc.status_code in (404, 405) else None
        body = {"error": str(exc.detail), "hint": hint}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)  # 405's Allow header

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_error(exc.errors()), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s: unexpected %s: %s", request.url.path, type(exc).__name__, exc)
        log.debug("traceback", exc_info=exc)
        return JSONResponse({"error": "internal error", "hint": "See the server log."}, status_code=500)

    @app.get("/healthz", tags=["health"], response_model=Health, responses=responses(503))
    def healthz(request: Request) -> JSONResponse:
        """``ready`` once the encoders of the served collections are loaded (503 until then)."""
        state = request.app.state.textlens
        ready = state.ready.is_set()
        body = {"status": "ok" if ready else "loading", "ready": ready, "version": __version__, "models": state.loading}
        return JSONResponse(body, status_code=200 if ready else 503)

    for router in (tokens.router, collections.router, ask.router, evaluate.router, keywords.router, inside.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/palettes.js", include_in_schema=False)
    def palettes() -> Response:
        """The web UI's colours, from the palettes every textlens page uses (:mod:`textlens.html`)."""
        script = f"const PALETTE = {json.dumps(DARK)};\nconst KW_COLOURS = {json.dumps(LIGHT)};\n"
        return Response(script, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
