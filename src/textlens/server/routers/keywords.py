"""Keyword endpoint: ``textlens keywords`` over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from textlens.errors import InputError
from textlens.keywords.options import KeywordOptions
from textlens.server.options import options_of, request_model
from textlens.server.schemas import responses

router = APIRouter(prefix="/api", tags=["keywords"], responses=responses(400, 403, 413, 429, 502, 503, 504))
MAX_TEXTS = 100


KeywordsRequest = request_model(
    KeywordOptions,
    "KeywordsRequest",
    texts=(
        list[str] | None,
        Field(None, min_length=1, max_length=MAX_TEXTS, description="Documents (one pass for all)."),
    ),
    collection=(str | None, Field(None, description="Or: documents of this served collection...")),
    ids=(list[str] | None, Field(None, min_length=1, max_length=MAX_TEXTS, description="...by id.")),
    llm=(bool, Field(False, description="The server's language model finds the keywords, in llm_mode.")),
)
MAX_PHRASES = {"candidates": 1000, "seed_keywords": 50, "languages": 8, "stop_words": 10_000}


@router.post("/keywords")
def keywords(body: KeywordsRequest, request: Request) -> list[dict[str, Any]]:  # type: ignore[valid-type]
    """Per text (or per collection document): its keywords (phrase, score, character spans, merged
    variants) and a note when none."""
    from textlens.index.sources import from_collection
    from textlens.keywords import find_keywords

    st = request.app.state.textlens
    if (body.texts is None) == (body.collection is None) or (body.collection is not None and not body.ids):
        raise InputError("send texts, or a collection with ids (one of them)")
    for name, most in MAX_PHRASES.items():
        if len(getattr(body, name) or ()) > most:
            raise InputError(f"{name} holds {len(getattr(body, name)):,} items; this server takes up to {most:,}")
    texts = body.texts if body.texts is not None else from_collection(st.allowed(body.collection), body.ids).texts
    limit = st.settings.max_text_chars
    total = sum(len(t) for t in texts)
    if total > limit:
        raise InputError(f"the texts hold {total:,} characters; this server accepts up to {limit:,}")
    if body.ngram_range is not None and not 1 <= body.ngram_range[0] <= body.ngram_range[1] <= 8:
        raise InputError(f"ngram_range {list(body.ngram_range)} is not a range of 1 to 8 words")
    if not body.llm:
        return [r.to_dict() for r in find_keywords(texts, options_of(KeywordOptions, body))]
    options = options_of(KeywordOptions, body, llm=st.generator())
    release = st.wait_for_model()
    try:
        return [r.to_dict() for r in find_keywords(texts, options)]
    finally:
        release()
