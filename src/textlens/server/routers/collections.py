"""Collection endpoints: list, inspect, search, add/upsert and delete documents."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Document
from textlens.index import CollectionNotFound, list_collections
from textlens.search.options import SearchOptions
from textlens.server.options import request_model
from textlens.server.schemas import responses
from textlens.server.security import require_key

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=responses(400, 403, 404, 413, 503))
WRITE = {"dependencies": [Depends(require_key)], "responses": responses(401, 409)}


def state(request: Request):
    return request.app.state.textlens


SearchRequest = request_model(
    SearchOptions, "SearchRequest", query=(str, Field(..., min_length=1, max_length=10_000, description="The query."))
)


class DocumentIn(BaseModel):
    id: str = Field(..., min_length=1, max_length=512)
    text: str
    title: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    parent: str | None = None


class DocumentsRequest(BaseModel):
    documents: list[DocumentIn] = Field(..., min_length=1, max_length=10_000)
    upsert: bool = False
    encoder: str | None = Field(
        DEFAULT_ENCODER,
        description="For a new collection: an embedding model the server allows, or null for keyword only.",
    )


@router.get("")
def collections(request: Request) -> list[dict[str, Any]]:
    served = state(request).settings.collections
    return [c for c in list_collections() if not served or c["name"] in served]


@router.get("/{name}")
def collection_info(name: str, request: Request) -> dict[str, Any]:
    return state(request).collection(name).info()


@router.post("/{name}/search")
async def search(name: str, body: SearchRequest, request: Request) -> dict[str, Any]:
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


@router.post("/{name}/documents", **WRITE)
def add_documents(name: str, body: DocumentsRequest, request: Request) -> dict[str, Any]:
    st = state(request)
    if not st.exists(name):
        st.create_collection(name, body.encoder)
    col = st.collection(name)
    docs = [Document(d.id, d.text, d.title, d.metadata, d.parent) for d in body.documents]
    report = col.add(docs, upsert=body.upsert)
    return {
        "added": report.added,
        "replaced": report.replaced,
        "skipped_empty": report.skipped_empty,
        "embedded": report.embedded,
        "documents": len(col),
    }


@router.delete("/{name}/documents/{doc_id}", **WRITE)
def delete_document(name: str, doc_id: str, request: Request) -> dict[str, Any]:
    col = state(request).collection(name)
    deleted = col.delete([doc_id])
    if not deleted:
        raise CollectionNotFound(f"no document {doc_id!r} in collection {name!r}", hint="Check the id.")
    return {"deleted": deleted, "documents": len(col)}
