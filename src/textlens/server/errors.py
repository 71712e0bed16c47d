"""The HTTP status of each error type: the one table the app's error handler and the streaming ask use."""

from __future__ import annotations

from textlens.errors import AssetError, Conflict, Forbidden, MissingDependency, NotFound, TextlensError
from textlens.llm.base import LLMError, LLMTimeout, LLMUnavailable
from textlens.server.state import TooBusy

STATUS = (
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (TooBusy, 429),
    (AssetError, 503),
    (MissingDependency, 503),
    (LLMUnavailable, 503),
    (LLMTimeout, 504),
    (LLMError, 502),
)


def status_of(exc: TextlensError) -> int:
    """The HTTP status of an error, by its type: not found 404, conflict 409, forbidden 403, busy 429,
    a file, package or LLM missing on the server 503, an LLM server that failed 502 or timed out 504;
    any other error of the request 400."""
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
