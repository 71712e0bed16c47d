"""The REST contract's shapes: the one error body, the OpenAPI description of each status code, the request
rules every body follows, and the response models (the library's own result dataclasses where it has them).
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from textlens.index.base import NAME_PATTERN

ERROR_STATUS = {
    400: "The request cannot be used as it is (the error says what, the hint how to fix it).",
    401: "This endpoint needs the API key (header X-API-Key or Authorization: Bearer).",
    403: "Not allowed on this server: a collection, model or path its operator did not allow, "
    "or a state-changing request from a foreign web page.",
    404: "No such collection, document, job or tokenizer, or a layer or head the model lacks.",
    409: "Conflicts with the collection's current state: it exists already, another process is writing, the ids "
    "are taken (or sent twice), it is empty, or no document has the field a filter names.",
    413: "The request body is larger than the server accepts, or a question leaves no room for passages in "
    "the model's context.",
    422: "The body is not JSON, or a field breaks the schema (``field`` says which, ``error`` what is wrong).",
    429: "The server runs as many background jobs (or waiting questions) as it allows; try again later.",
    500: "Something failed inside the server (the server log says what).",
    502: "The LLM server behind this one failed or answered with something malformed.",
    503: "A model or file the server needs is missing or still loading, or the LLM server is down.",
    504: "The LLM server behind this one did not answer in time.",
}


class Body(BaseModel):
    """Every request body: types as declared (no ``0`` for ``false``, no ``"5"`` for ``5``; ``5.0`` is the whole
    number JSON Schema's ``integer`` allows) and no unknown field (the schema says ``additionalProperties: false``).
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _whole_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return _whole(value, cls.model_fields[info.field_name].annotation) if info.field_name else value


def _whole(value: Any, kind: Any) -> Any:
    """``value`` with whole floats made ints where ``kind`` (or the items of a tuple or list of it) is an int."""
    kinds = [k for k in (kind, *typing.get_args(kind)) if k is not type(None)]
    if isinstance(value, float) and value.is_integer() and any(_base(k) is int for k in kinds):
        return int(value)
    if isinstance(value, list):
        for k in kinds:
            if typing.get_origin(k) in (tuple, list):
                items = [a for a in typing.get_args(k) if a is not Ellipsis]
                return [_whole(v, items[min(i, len(items) - 1)]) for i, v in enumerate(value)] if items else value
    return value


def _base(kind: Any) -> Any:
    """``int`` for ``Annotated[int, ...]``; the type itself otherwise."""
    return typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Annotated else kind


class ErrorBody(BaseModel):
    """What every error response (4xx and 5xx) holds."""

    error: str = Field(description="What is wrong.")
    hint: str | None = Field(None, description="How to fix it.")
    field: str | None = Field(None, description="The request field at fault, as a path: body.documents.0.id.")


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes (the app declares those of every route: 400, 403, 413, 422, 500)."""
    return {code: {"model": ErrorBody, "description": ERROR_STATUS[code]} for code in sorted(codes)}


CollectionName = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        max_length=64,
        description="A collection's name: letters, digits, '.', '_' and '-', starting with a letter or digit.",
        examples=["wikipedia"],
    ),
]


class CollectionSummary(BaseModel):
    name: str
    documents: int | None = None
    encoder: str | None = Field(None, description="The embedding model, or null for keyword only.")
    error: str | None = Field(None, description="Why the collection cannot be opened (then no documents).")


class CollectionInfo(BaseModel):
    name: str
    documents: int
    format_version: int
    encoder: dict[str, Any] | None = Field(None, description="name, dim, ... of the embedding model; null: keyword")
    language: str
    vector_index: str
    keyword_index: str | None = Field(None, description="PostgreSQL: pg_textsearch or sql (local: tantivy).")
    fields: list[str] = Field(description="Metadata fields the documents hold (filterable).")
    keyword_titles: bool
    bytes_on_disk: int
    created: str | float
    vectors: dict[str, Any] | None = None
    backend: str | None = Field(None, description="The PostgreSQL server (no password), when not on local disk.")


class AddReport(BaseModel):
    added: int
    replaced: int
    skipped_empty: list[str] = Field(description="Ids of documents with no text, not stored.")
    embedded: int
    documents: int = Field(description="Documents in the collection now.")


class DeleteReport(BaseModel):
    deleted: int
    documents: int


class Health(BaseModel):
    status: str = Field(description="ok, or loading")
    ready: bool
    version: str
    models: dict[str, str] = Field(description="Each model the server loads: loading, ready, or why it failed.")


class Tokenizer(BaseModel):
    name: str
    display: str
    format: str
    vocab_size: int | None
    aliases: list[str]
    available: bool
    where: str | None = Field(None, description="How to make an unavailable tokenizer available.")


class Comparison(BaseModel):
    text: str
    tokenizers: list[dict[str, Any]] = Field(description="Per tokenizer: tokens, characters per token, segments...")
    categories: dict[str, Any] | None = None
    skipped: dict[str, str] = Field(description="Tokenizers not compared, and why.")


class Job(BaseModel):
    id: str
    kind: str
    status: str = Field(description="queued, running, done or failed")
    progress: dict[str, Any] = Field(description="stage, done, total")
    result: dict[str, Any] | None = Field(
        None,
        description="When done: its result (an evaluation as textlens eval --json; token premiums as textlens "
        "tokens languages --json).",
    )
    error: str | None = None
    started: float
    finished: float | None = None


class KeywordOut(BaseModel):
    keyword: str
    score: float
    spans: list[list[int]] = Field(description="[start, end] character ranges in the text.")
    variants: list[str]
    grounded: bool | None = None


class Keywords(BaseModel):
    keywords: list[KeywordOut]
    note: str | None = Field(None, description="Why there are none (empty, too short).")


class InsideModel(BaseModel):
    name: str
    available: bool
    facts: dict[str, Any] | None = None
    error: str | None = None
    hint: str | None = None


class CacheMemory(BaseModel):
    attention: str
    kv_heads: int
    bytes_per_token: int
    total_bytes: int
    formula: str


class ModuleTree(BaseModel):
    facts: dict[str, Any] = Field(description="Architecture: layers, heads, hidden size, attention type...")
    total_parameters: int
    modules: list[dict[str, Any]] = Field(description="path, kind, depth, weights (shapes), parameters, repeat...")


class AttentionView(BaseModel):
    model: str
    attention_type: str
    tokens: list[str]
    prompt_tokens: int
    layers: list[int]
    heads: int
    weights: list[list[list[list[float]]]] = Field(description="[layer][head][query][key], rounded to 4 places.")
    facts: dict[str, Any]
    check: dict[str, Any] | None = Field(None, description="The layer recomputed step by step, and the errors.")


class NextTokens(BaseModel):
    model: str
    prompt: str
    generated: str
    formula: list[str] = Field(description="The LM head's steps, one formula a line.")
    steps: list[dict[str, Any]] = Field(description="Per greedy step: position, candidates, max logit error.")
    sampling: list[dict[str, Any]] = Field(description="What top-k, top-p and temperature leave of the candidates.")
