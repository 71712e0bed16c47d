"""Tokenizer endpoints: the registry and comparisons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field

from textlens.errors import Forbidden, InputError
from textlens.server.schemas import Body, Comparison, Tokenizer, responses

router = APIRouter(prefix="/api", tags=["tokens"], responses=responses(404, 503))


class CompareRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Hello, world!", "tokenizers": ["cl100k"]}]})
    text: str | None = Field(None, description="Text to compare; omitted: the built-in probe text.")
    tokenizers: list[str] | None = Field(
        None, max_length=32, description="Registry names (GET /api/tokenizers), or omitted for the default set."
    )
    categories: bool | None = Field(None, description="Per-category table (default: with the probe text).")
    segments: bool = Field(True, description="Include coloured segments (ids and text per group).")


@router.get("/tokenizers", response_model=list[Tokenizer])
def list_tokenizers() -> list[dict[str, Any]]:
    """Every named tokenizer with its format, vocabulary size and availability here."""
    from textlens.tokens.registry import describe_all

    return describe_all()


@router.post("/tokens/compare", response_model=Comparison)
def compare_tokens(body: CompareRequest, request: Request) -> dict[str, Any]:
    """The same data as ``textlens tokens compare --json``."""
    from textlens.tokens import compare
    from textlens.tokens.registry import is_named, spec

    limit = request.app.state.textlens.settings.max_text_chars
    if body.text is not None and len(body.text) > limit:
        raise InputError(
            f"text is {len(body.text):,} characters; this server accepts up to {limit:,}",
            hint="Send less text.",
        )
    for name in body.tokenizers or ():
        if not is_named(name) and (name.startswith("hf:") or "/" in name or "\\" in name):
            raise Forbidden(
                f"tokenizer {name!r}: this server loads named tokenizers only, no files or Hub ids",
                hint="Use a name from GET /api/tokenizers.",
            )
        spec(name)  # an unknown name: 404 with the known names, before anything loads
    return compare(body.text, body.tokenizers, categories=body.categories).to_dict(with_segments=body.segments)
