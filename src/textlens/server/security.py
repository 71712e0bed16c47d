"""API key for write endpoints, request size limits, and the bind-address rule."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

from textlens.errors import InputError


def require_key(request: Request) -> None:
    """Write endpoints need ``X-API-Key`` (or ``Authorization: Bearer``) when a key is set."""
    key = request.app.state.textlens.settings.api_key
    if not key:
        return
    given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise HTTPException(status_code=401, detail="this endpoint needs the API key (header X-API-Key)")


class BodyLimit(BaseHTTPMiddleware):
    """Refuse request bodies larger than the configured limit (413) before reading them."""

    def __init__(self, app, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return JSONResponse(
                {
                    "error": f"request body is {int(length):,} bytes; the limit is {self.max_bytes:,}",
                    "hint": "Send smaller batches.",
                },
                status_code=413,
            )
        return await call_next(request)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Writes without an API key are only allowed on a loopback address."""
    if not is_loopback(host) and not api_key:
        raise InputError(
            f"refusing to serve write endpoints on {host} without an API key",
            hint="Set TEXTLENS_API_KEY, or bind to 127.0.0.1.",
        )
