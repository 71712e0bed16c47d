"""The server's boundary: Host and Origin checks (DNS rebinding, cross-site requests), request size
limits, the API key for writes, and the bind-address rule.

A web page the user visits can make the browser send requests to ``127.0.0.1``: a
cross-site ``POST`` directly, or any request at all after pointing its own domain at
``127.0.0.1`` (DNS rebinding). Two checks stop both before any route runs:

- ``Host`` must name this server (localhost, 127.0.0.1, [::1], the bound address, or a
  host the operator added); a rebinding page sends its own domain: 400.
- A state-changing request (anything but GET, HEAD, OPTIONS) that carries an ``Origin``
  header must come from this server's own page or an allowed CORS origin: else 403.
  Clients that are not browsers (the CLI, curl, Python) send no ``Origin`` and pass.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from fastapi import HTTPException, Request

from textlens.errors import InputError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_key(request: Request) -> None:
    """Write endpoints need ``X-API-Key`` (or ``Authorization: Bearer``) when a key is set."""
    key = request.app.state.textlens.settings.api_key
    if not key:
        return
    given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise HTTPException(status_code=401, detail="this endpoint needs the API key (header X-API-Key)")


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header, lower-case, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def allowed_hosts(bound: str, extra: tuple[str, ...]) -> frozenset[str] | None:
    """Host names the server answers to; ``None`` when ``extra`` holds ``*`` (no check)."""
    if "*" in extra:
        return None
    names = {*LOOPBACK_NAMES, *(host_name(h) for h in extra)}
    if bound not in ("0.0.0.0", "::", ""):
        names.add(host_name(bound))
    return frozenset(names)


async def _send_error(send, status: int, error: str, hint: str) -> None:
    body = json.dumps({"error": error, "hint": hint}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: Host check, Origin check for state-changing requests, body size limit (413)."""

    def __init__(
        self,
        app,
        *,
        hosts: frozenset[str] | None,
        origins: tuple[str, ...] = (),
        max_bytes: int,
    ) -> None:
        self.app, self.hosts, self.origins, self.max_bytes = app, hosts, frozenset(origins), max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            return await _send_error(
                send,
                400,
                f"the Host header {host!r} does not name this server",
                "Use the address the server is bound to (e.g. 127.0.0.1); the operator can allow more host names.",
            )
        origin = headers.get("origin")
        if origin is not None and scope["method"] not in SAFE_METHODS and not self._origin_ok(origin, scope, host):
            return await _send_error(
                send,
                403,
                f"a request from the web page at {origin!r} may not change anything on this server",
                "Use textlens's own page on this server; the operator can allow other origins (CORS).",
            )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            return await _send_error(
                send,
                413,
                f"request body is {int(length):,} bytes; the limit is {self.max_bytes:,}",
                "Send smaller batches.",
            )
        return await self.app(scope, receive, send)

    def _origin_ok(self, origin: str, scope, host: str) -> bool:
        if origin in self.origins:
            return True
        scheme = scope.get("scheme", "http")
        return origin.lower() == f"{scheme}://{host}".lower()


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
