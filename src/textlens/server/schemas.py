"""The error body every endpoint returns, and the OpenAPI description of each status code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ERROR_STATUS = {
    400: "The request cannot be used as it is (the error says what, the hint how to fix it).",
    401: "This endpoint needs the API key (header X-API-Key or Authorization: Bearer).",
    403: "Not allowed on this server: a collection, model or path its operator did not allow, "
    "or a state-changing request from a foreign web page.",
    404: "No such collection, document, job or tokenizer.",
    409: "Conflicts with the current state: exists already, or another process is writing.",
    413: "The request body is larger than the server accepts.",
    429: "The server runs as many background jobs (or waiting questions) as it allows; try again later.",
    502: "The LLM server behind this one failed or answered with something malformed.",
    503: "A model or file the server needs is missing or still loading, or the LLM server is down.",
    504: "The LLM server behind this one did not answer in time.",
}


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: str
    hint: str | None = None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes (400, 403 and 413 apply to every API route)."""
    return {code: {"model": ErrorBody, "description": ERROR_STATUS[code]} for code in sorted(codes)}
