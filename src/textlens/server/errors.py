"""The HTTP status of each error type: the one table the app's error handler and the streaming ask use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textlens.errors import AssetError, Conflict, Forbidden, MissingDependency, NotFound, TextlensError, TooLarge
from textlens.llm.base import LLMError, LLMTimeout, LLMUnavailable
from textlens.server.state import TooBusy

STATUS = (
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (TooLarge, 413),
    (TooBusy, 429),
    (AssetError, 503),
    (MissingDependency, 503),
    (LLMUnavailable, 503),
    (LLMTimeout, 504),
    (LLMError, 502),
)


def status_of(exc: TextlensError) -> int:
    """The HTTP status of an error, by its type: not found 404, conflict 409, forbidden 403, too large 413,
    busy 429, a file, package or LLM missing on the server 503, an LLM server that failed 502 or timed out 504;
    any other error of the request 400."""
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def validation_error(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The error body of a request that breaks the schema (FastAPI's validation errors, a body that is not JSON
    included): what is wrong with which field, and how to fix it; the first field named in ``field``."""
    fields = [".".join(str(part) for part in e["loc"]) for e in errors]
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        where = first.get("ctx", {}).get("error", "")
        return {
            "error": f"the body is not valid JSON ({where})" if where else "the body is not valid JSON",
            "hint": "Send a JSON object in UTF-8 with Content-Type: application/json.",
            "field": "body",
        }
    said = [f"{f}: {e['msg'][:1].lower()}{e['msg'][1:]}" for f, e in zip(fields, errors, strict=True)]
    more = f" and {len(said) - 5} more" if len(said) > 5 else ""
    if kind == "missing":
        hint = f"Send {fields[0]}."
    elif kind == "extra_forbidden":
        hint = f"Leave out {fields[0]}: the endpoint's schema (GET /openapi.json) lists the fields it takes."
    else:
        hint = f"Send {fields[0]} as its schema says (GET /openapi.json)."
    return {"error": "; ".join(said[:5]) + more, "hint": hint, "field": fields[0]}
