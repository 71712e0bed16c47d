"""Tokenizer endpoints: the registry and comparisons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from textlens.errors import InputError

router = APIRouter(prefix="/api", tags=["tokens"])


class CompareRequest(BaseModel):
    text: str | None = Field(None, description="Text to compare; omitted: the built-in probe text.")
    tokenizers: list[str] | None = Field(None, description="Names, or omitted for the default set.")
    categories: bool | None = Field(None, description="Per-category table (default: with the probe text).")
    segments: bool = Field(True, description="Include coloured segments (ids and text per group).")


@router.get("/tokenizers")
def list_tokenizers() -> list[dict[str, Any]]:
    """Every named tokenizer with its format, vocabulary size and availability here."""
    from textlens.tokens.registry import describe_all

    return describe_all()


@router.post("/tokens/compare")
def compare_tokens(body: CompareRequest, request: Request) -> dict[str, Any]:
    """The same data as ``textlens tokens compare --json``."""
    from textlens.tokens import compare

    limit = request.app.state.textlens.settings.max_text_chars
    if body.text is not None and len(body.text) > limit:
        raise InputError(
            f"text is {len(body.text):,} characters; this server accepts up to {limit:,}",
            hint="Send less text, or count tokens of large files with textlens tokens stats.",
        )
    return compare(body.text, body.tokenizers, categories=body.categories).to_dict(with_segments=body.segments)
