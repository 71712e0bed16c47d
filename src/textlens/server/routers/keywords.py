"""Keyword endpoint: ``textlens keywords`` over HTTP."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from textlens.errors import InputError
from textlens.server.schemas import responses

router = APIRouter(prefix="/api", tags=["keywords"], responses=responses(400, 403, 413, 429, 502, 503, 504))
MAX_TEXTS = 100


class KeywordsRequest(BaseModel):
    texts: list[str] | None = Field(
        None, min_length=1, max_length=MAX_TEXTS, description="Documents (one pass for all)."
    )
    collection: str | None = Field(None, description="Or: documents of this served collection...")
    ids: list[str] | None = Field(None, min_length=1, max_length=MAX_TEXTS, description="...by id.")
    ngram_range: tuple[int, int] = Field((1, 1), description="Fewest and most words per phrase.")
    top_n: int = Field(5, ge=1, le=100)
    languages: list[str] = Field(["english"], max_length=8, description="Stop words and stemmer.")
    candidates: list[str] | None = Field(None, max_length=1000, description="Rank only these phrases.")
    diversity: float | None = Field(None, ge=0, le=1, description="Maximal Marginal Relevance weight.")
    max_sum: bool = Field(False, description="Max Sum Similarity over nr_candidates.")
    nr_candidates: int = Field(20, ge=1, le=100)
    seed_keywords: list[str] | None = Field(None, max_length=50)
    merge: bool = Field(True, description="Merge phrases with the same stems.")
    order: Literal["score", "text"] = "score"
    llm: Literal["write", "choose", "shared"] | None = Field(
        None, description="The server's language model finds the keywords, in this mode (every keyword is in the text)."
    )
    ungrounded: Literal["drop", "mark"] = Field("drop", description="With llm: keywords not in the text.")


@router.post("/keywords")
def keywords(body: KeywordsRequest, request: Request) -> list[dict[str, Any]]:
    """Per text (or per collection document): its keywords (phrase, score, character spans, merged
    variants) and a note when none."""
    from textlens.index.sources import from_collection
    from textlens.keywords import extract_keywords

    st = request.app.state.textlens
    if (body.texts is None) == (body.collection is None) or (body.collection is not None and not body.ids):
        raise InputError("send texts, or a collection with ids (one of them)")
    texts = body.texts if body.texts is not None else from_collection(st.allowed(body.collection), body.ids).texts
    limit = st.settings.max_text_chars
    total = sum(len(t) for t in texts)
    if total > limit:
        raise InputError(f"the texts hold {total:,} characters; this server accepts up to {limit:,}")
    if not 1 <= body.ngram_range[0] <= body.ngram_range[1] <= 8:
        raise InputError(f"ngram_range {list(body.ngram_range)} is not a range of 1 to 8 words")
    common = dict(ngram_range=body.ngram_range, top_n=body.top_n, languages=body.languages,
                  diversity=body.diversity, nr_candidates=body.nr_candidates, order=body.order)  # fmt: skip
    if body.llm is not None:
        if body.candidates or body.max_sum or body.seed_keywords:
            raise InputError("candidates, max_sum and seed_keywords are for the embedding method, not llm")
        from textlens.keywords.llm import llm_keywords

        generator = st.generator()
        release = st.wait_for_model()
        try:
            results = llm_keywords(texts, llm=generator, mode=body.llm, ungrounded=body.ungrounded, **common)
        finally:
            release()
        return [r.to_dict() for r in results]
    results = extract_keywords(
        texts,
        candidates_given=body.candidates,
        max_sum=body.max_sum,
        seed_keywords=body.seed_keywords,
        merge=body.merge,
        **common,
    )
    return [r.to_dict() for r in results]
