"""Keyword endpoint: ``textlens keywords`` over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from textlens.errors import InputError
from textlens.index.base import NAME_PATTERN
from textlens.keywords.options import KeywordOptions
from textlens.server.options import options_of, request_model
from textlens.server.schemas import Keywords, responses

router = APIRouter(prefix="/api", tags=["keywords"], responses=responses(404, 429, 502, 503, 504))
MAX_TEXTS = 100


LLM = {"llm": {"const": True}}
NEVER = [  # KeywordOptions' rules between fields that a schema can state, each as what a body must not be
    {
        "required": ["threshold"],
        "properties": {"threshold": {"type": "number"}},
        "not": {"required": ["llm"], "properties": LLM},
    },
    {"required": ["threshold"], "properties": {"threshold": {"const": 0}}},
    {"required": ["llm", "max_sum"], "properties": {**LLM, "max_sum": {"const": True}}},
    *(
        {"required": ["llm", f], "properties": {**LLM, f: {"type": "array", "minItems": 1}}}
        for f in ("candidates", "seed_keywords")
    ),
    {
        "required": ["max_sum", "diversity"],
        "properties": {"max_sum": {"const": True}, "diversity": {"type": "number", "exclusiveMinimum": 0}},
    },
]
SCHEMA = {
    "oneOf": [  # texts, or a collection's documents by id: one of them
        {"required": ["texts"], "not": {"anyOf": [{"required": ["collection"]}, {"required": ["ids"]}]}},
        {"required": ["collection", "ids"], "not": {"required": ["texts"]}},
    ],
    "allOf": [{"not": rule} for rule in NEVER],
    "examples": [{"texts": ["Mars is the fourth planet from the Sun."], "k": 3}],
}
KeywordsRequest = request_model(
    KeywordOptions,
    "KeywordsRequest",
    schema=SCHEMA,
    most={"candidates": 1000, "seed_keywords": 50, "languages": 8, "stop_words": 10_000},
    texts=(list[str], Field(None, min_length=1, max_length=MAX_TEXTS, description="Documents (one pass for all).")),
    collection=(str, Field(None, pattern=NAME_PATTERN, description="Or: documents of this served collection...")),
    ids=(list[str], Field(None, min_length=1, max_length=MAX_TEXTS, description="...by id.")),
    llm=(bool, Field(False, description="The server's language model finds the keywords, in llm_mode.")),
)


@router.post("/keywords", response_model=list[Keywords])
def keywords(body: KeywordsRequest, request: Request) -> list[dict[str, Any]]:  # type: ignore[valid-type]
    """Per text (or per collection document): its keywords (phrase, score, character spans, merged
    variants) and a note when none."""
    from textlens.index.sources import from_collection
    from textlens.keywords import find_keywords

    st = request.app.state.textlens
    alone = body.texts is not None and body.collection is None and body.ids is None
    by_id = body.texts is None and body.collection is not None and body.ids is not None
    if not (alone or by_id):  # SCHEMA's oneOf
        raise InputError(
            "send texts, or a collection with ids (one of them)",
            hint='{"texts": [...]} or {"collection": NAME, "ids": [...]}',
        )
    if body.collection is not None:
        st.collection(body.collection)  # served, and it exists (404 by name)
    texts = body.texts if body.texts is not None else from_collection(body.collection, body.ids).texts
    limit = st.settings.max_text_chars
    total = sum(len(t) for t in texts)
    if total > limit:
        raise InputError(f"the texts hold {total:,} characters; this server accepts up to {limit:,}")
    if not body.llm:
        return [r.to_dict() for r in find_keywords(texts, options_of(KeywordOptions, body))]
    options = options_of(KeywordOptions, body, llm=st.generator())
    release = st.wait_for_model()
    try:
        return [r.to_dict() for r in find_keywords(texts, options)]
    finally:
        release()
