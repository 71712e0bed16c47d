"""Collection endpoints: list, inspect, search, add/upsert and delete documents."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from textlens import index
from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Document
from textlens.index import CollectionNotFound
from textlens.search.options import SearchOptions
from textlens.search.results import Results
from textlens.server.options import request_model
from textlens.server.schemas import (
    AddReport,
    Body,
    CollectionInfo,
    CollectionName,
    CollectionSummary,
    DeleteReport,
    responses,
)
from textlens.server.security import require_key

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=responses(404, 503))
WRITE = {"dependencies": [Depends(require_key)], "responses": responses(401, 409)}


def state(request: Request):
    return request.app.state.textlens


BOTH = {
    "properties": {"bm25": {"type": "array"}, "title_boost": {"type": "number"}},
    "required": ["bm25", "title_boost"],
}
SearchRequest = request_model(
    SearchOptions,
    "SearchRequest",
    schema={"not": BOTH},  # BM25 parameters re-score the body alone: no title boost beside them
    query=(str, Field(..., min_length=1, max_length=10_000, description="The query.", examples=["planets"])),
)


NOT_BLANK = r"[^\s\x1c-\x1f]"
SAFE = 2**53 - 1  # the largest whole number every JSON reader keeps exactly (RFC 7493, I-JSON)
_VALUES = [
    {"type": "string"},
    {"type": "boolean"},
    {"type": "number", "minimum": -SAFE, "maximum": SAFE},
    {"type": "null"},
]
_FLAT = [*_VALUES, {"type": "array", "items": {"anyOf": _VALUES}}]
# what DocumentIn._fits takes (the library keeps more: 64-bit integers and any depth; a schema that recurses
# defeats generated clients): a value, a list of values, or an object of those
METADATA_VALUE = {"anyOf": [*_FLAT, {"type": "object", "additionalProperties": {"anyOf": _FLAT}}]}


class DocumentIn(Body):
    id: str = Field(..., min_length=1, max_length=512)
    # a document has words (Python's add skips a blank one; a client that sends one is told, and nothing is kept
    # under an id it would look for); \x1c-\x1f: what Python's str.isspace() counts as space beside \s
    text: str = Field(
        ..., description="The text: at least one character not a space.", json_schema_extra={"pattern": NOT_BLANK}
    )
    title: str = ""
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        json_schema_extra={"additionalProperties": METADATA_VALUE},
        description="Fields to filter on: text, booleans, null, numbers within +-(2**53 - 1) (larger ones as "
        "text: JavaScript and other JSON readers lose their digits), and lists and objects of them.",
    )
    parent: str | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():  # the library's rule; NOT_BLANK states it for the schema
            raise PydanticCustomError("blank_text", "the text is blank: a document needs words")
        return text

    @field_validator("metadata")
    @classmethod
    def _fits(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        said = next((b for k, v in metadata.items() if (b := _unfit(v, k, objects=1))), None)
        if said:
            raise PydanticCustomError("metadata", said)
        return metadata


def _unfit(value: Any, path: str, objects: int) -> str | None:
    """Why ``value`` (at ``path``) is not a METADATA_VALUE, with ``objects`` levels of object left; None if it is."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int | float):
        return (
            None
            if -SAFE <= value <= SAFE
            else f"{path} is {value}: beyond +-(2**53 - 1) JSON readers lose digits; send it as text"
        )
    if objects < 0:
        return f"{path}: a list holds text, numbers, booleans and null, not lists or objects"
    if isinstance(value, list):
        return next((b for i, v in enumerate(value) if (b := _unfit(v, f"{path}[{i}]", objects=-1))), None)
    if objects == 0:
        return f"{path}: an object's fields hold values or lists of them, not objects"
    return next((b for k, v in value.items() if (b := _unfit(v, f"{path}.{k}", objects - 1))), None)


class DocumentsRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"documents": [{"id": "mars", "text": "Mars is the fourth planet.", "title": "Mars"}]}]
        }
    )
    documents: list[DocumentIn] = Field(..., min_length=1, max_length=10_000)
    upsert: bool = False
    encoder: str | None = Field(
        DEFAULT_ENCODER,
        description="For a new collection: an embedding model the server allows, or null for keyword only.",
    )


@router.get("", response_model=list[CollectionSummary])
def list_collections(request: Request) -> list[dict[str, Any]]:
    """The collections this server serves, with their documents and encoder."""
    st = state(request)
    served = st.settings.collections
    listed = [c for c in index.list_collections() if not served or c["name"] in served]
    return [{**c, "error": st.public(c["error"])} if c.get("error") else c for c in listed]


@router.get("/{name}", response_model=CollectionInfo)
def get_collection(name: CollectionName, request: Request) -> dict[str, Any]:
    """What the collection is: documents, encoder, language, vector index, metadata fields, size."""
    return state(request).collection(name).info()


@router.post("/{name}/search", response_model=Results, responses=responses(409))
async def search(name: CollectionName, body: SearchRequest, request: Request) -> Response:
    """With search workers (``textlens serve --search-workers N``), a worker process answers the
    whole search, query embedding included; with a reranker, the server process does.

    Without workers the search itself (a few milliseconds) runs on the event loop: no thread hop,
    no threads fighting for the GIL. What takes longer runs in the thread pool: the query's
    embedding (ONNX Runtime: one core per query, outside the GIL; torch: the queries of concurrent
    requests embedded together in one forward pass) and reranking."""
    st = state(request)
    col = st.collection(name)
    rerank = st.reranker(body.rerank)
    options = body.model_dump(exclude={"query", "rerank"})

    def run(vector=None) -> Response:
        results = col.search(body.query, rerank=rerank, query_vector=vector, **options)
        return Response(orjson.dumps(results.to_dict()), media_type="application/json")

    if rerank is not None:
        return await run_in_threadpool(run)
    if st.searchers is not None and (data := await st.searchers.search(name, body.query, options)) is not None:
        return Response(data, media_type="application/json")
    vector = None
    if body.mode != "keyword" and col.manifest.get("encoder"):  # loading the encoder, too, stays off the loop
        vector = await run_in_threadpool(lambda: col.encoder.encode_queries([body.query])[0])
    return run(vector)


MAX_IMAGE_BYTES = 5_000_000
RED_PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGO4IycHAALyARlzRAvLAAAAAElFTkSuQmCC"
)
ImageSearchRequest = request_model(
    SearchOptions,
    "ImageSearchRequest",
    query=(
        str,
        Field("", max_length=10_000, description="Words beside the picture (hybrid: BM25 reads them); may be empty."),
    ),
    mode=(
        Literal["dense", "hybrid"],
        Field(
            "dense",
            description="dense: the picture's vector alone; hybrid: fused with BM25 on the query's words (dense "
            "when there are none).",
        ),
    ),
    image=(
        str,
        Field(
            ...,
            min_length=1,
            max_length=4 * MAX_IMAGE_BYTES // 3 + 100,
            description="The picture: base64 of a PNG, JPEG, WebP or GIF file (or a data: URI), at most 5 MB.",
            examples=[RED_PIXEL],
        ),
    ),
)


def picture_bytes(text: str) -> bytes:
    """The file a base64 text (or ``data:`` URI) holds; a clear error when it is not base64 or too large."""
    import base64
    import binascii

    from textlens.errors import InputError, TooLarge

    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            f"the image is not base64 ({exc})", api_hint="Send the file's bytes base64-encoded, or a data: URI."
        ) from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(
            f"the image is {len(data):,} bytes; the limit is {MAX_IMAGE_BYTES:,}",
            api_hint="Send a smaller picture (a search needs a few hundred pixels a side at most).",
        )
    return data


@router.post("/{name}/search/image", response_model=Results, responses=responses(409, 413))
def search_image(name: CollectionName, body: ImageSearchRequest, request: Request) -> Response:
    """Search by a picture (the collection's encoder must read images: CLIP, SigLIP or one trained by textlens
    train image-text): dense search by its vector, or hybrid with ``query``'s words."""
    st = state(request)
    col = st.collection(name)
    options = body.model_dump(exclude={"query", "rerank", "image"})
    picture = picture_bytes(body.image)
    results = col.search(body.query, rerank=st.reranker(body.rerank), image=picture, **options)
    return Response(orjson.dumps(results.to_dict()), media_type="application/json")


SAME_NAME = {"name": "$request.path.name"}
ADDED = {  # what a client does next with the documents it added (schemathesis follows these links)
    "links": {
        "get_collection": {"operationId": "get_collection", "parameters": SAME_NAME},
        "search": {"operationId": "search", "parameters": SAME_NAME},
        "delete_document": {
            "operationId": "delete_document",
            "parameters": {**SAME_NAME, "doc_id": "$request.body#/documents/0/id"},
        },
    }
}


@router.post(
    "/{name}/documents",
    response_model=AddReport,
    dependencies=WRITE["dependencies"],
    responses={200: ADDED, **WRITE["responses"]},
)
def add_documents(name: CollectionName, body: DocumentsRequest, request: Request) -> dict[str, Any]:
    """Add documents (or replace them, ``upsert``); the first add creates the collection with ``encoder``."""
    st = state(request)
    if not st.exists(name):
        st.create_collection(name, body.encoder)
    col = st.collection(name)
    _no_server_files(col, body.documents)
    docs = [Document(d.id, d.text, d.title, d.metadata, d.parent) for d in body.documents]
    report = col.add(docs, upsert=body.upsert)
    return {
        "added": report.added,
        "replaced": report.replaced,
        "skipped_empty": report.skipped_empty,
        "embedded": report.embedded,
        "documents": len(col),
    }


def _no_server_files(col, documents: list[DocumentIn]) -> None:
    """A collection that embeds pictures reads the file its documents' ``image`` field names: over REST that
    would be a file of the server's, so the field is refused there (pictures are indexed by textlens index on the
    server's own folders)."""
    from textlens.embed.images import reads_images
    from textlens.errors import ConflictingInput

    named = next((d.id for d in documents if "image" in d.metadata), None)
    if named is not None and col.encoder is not None and reads_images(col.encoder):
        raise ConflictingInput(
            f"document {named!r}: metadata field 'image' would name a picture file on the server, and collection "
            f"{col.name!r} embeds pictures from their files",
            api_hint="Rename the field; index pictures on the server with textlens index FOLDER.",
        )


@router.delete("/{name}/documents/{doc_id}", response_model=DeleteReport, **WRITE)
def delete_document(name: CollectionName, doc_id: str, request: Request) -> dict[str, Any]:
    """Delete one document by id."""
    col = state(request).collection(name)
    deleted = col.delete([doc_id])
    if not deleted:
        raise CollectionNotFound(f"no document {doc_id!r} in collection {name!r}", hint="Check the id.")
    return {"deleted": deleted, "documents": len(col)}
