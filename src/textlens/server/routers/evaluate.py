"""Evaluation as a background job: start it, then poll its progress and result."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict, Field

from textlens.errors import InputError
from textlens.index.base import NAME_PATTERN
from textlens.server.schemas import Body, Job, responses
from textlens.server.security import require_key

router = APIRouter(prefix="/api/eval", tags=["evaluate"], responses=responses(404))


class EvalRequest(Body):
    """A BEIR folder, or a served collection with qrels and queries (``anyOf``; a BEIR folder goes first)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["beir_dir"]}, {"required": ["collection", "qrels", "queries"]}],
            "examples": [{"beir_dir": "scifact", "modes": ["keyword"]}],
        }
    )
    beir_dir: str = Field(None, min_length=1, description="A BEIR folder inside one of the server's data folders.")
    split: str = Field("test", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    collection: str = Field(
        None, pattern=NAME_PATTERN, description="With qrels and queries: evaluate this served collection."
    )
    qrels: str = Field(None, min_length=1, description="A qrels file inside one of the server's data folders.")
    queries: str = Field(None, min_length=1, description="A queries file inside one of the server's data folders.")
    modes: list[Literal["keyword", "dense", "hybrid"]] = Field(["keyword", "dense", "hybrid"], min_length=1)
    rerank: str | None = Field(None, description="A reranker the server's operator allowed.")


def per_query_rows(result, limit: int = 100) -> list[dict[str, Any]]:
    """The queries where the modes disagree most: text, relevant ids, and per mode nDCG@10 and first relevant rank."""
    from textlens.evaluate.report import first_relevant_rank

    modes = list(result.results)
    per = {m: result.per_query[m]["ndcg@10"] for m in modes}
    rows = []
    for qid, text in result.data.queries.items():
        values = {m: round(float(per[m].get(qid, 0.0)), 4) for m in modes}
        rows.append(
            {
                "id": qid,
                "query": text,
                "relevant": [d for d, r in result.data.qrels[qid].items() if r > 0],
                "ndcg@10": values,
                "first_relevant_rank": {m: first_relevant_rank(result, m, qid) for m in modes},
                "spread": max(values.values()) - min(values.values()),
            }
        )
    rows.sort(key=lambda r: (-r["spread"], r["id"]))
    return rows[:limit]


POLL = {"links": {"get_eval": {"operationId": "get_eval", "parameters": {"job_id": "$response.body#/id"}}}}


@router.post(
    "",
    dependencies=[Depends(require_key)],
    status_code=202,
    response_model=Job,
    responses={202: POLL, **responses(401, 429)},
)
def start_eval(body: EvalRequest, request: Request) -> dict[str, Any]:
    from textlens.evaluate import ModeSpec, evaluate_beir, evaluate_collection

    st = request.app.state.textlens
    rerank = st.reranker(body.rerank)
    specs = [ModeSpec(m) for m in body.modes] + ([ModeSpec("hybrid", rerank=rerank)] if rerank else [])
    if body.beir_dir:
        beir_dir = st.data_path(body.beir_dir, "beir_dir")
    elif body.collection and body.qrels and body.queries:
        st.collection(body.collection)  # served, and it exists
        qrels, queries = st.data_path(body.qrels, "qrels"), st.data_path(body.queries, "queries")
    else:
        raise InputError("nothing to evaluate", hint="Send beir_dir, or collection with qrels and queries.")

    def work(job) -> dict[str, Any]:
        progress = st.progress_of(job)
        if body.beir_dir:
            result = evaluate_beir(beir_dir, specs, split=body.split, progress=progress)
        else:
            result = evaluate_collection(body.collection, qrels, queries, specs, progress=progress)
        return {**result.to_dict(), "per_query": per_query_rows(result)}

    return st.start_job("eval", work).to_dict()


@router.get("/{job_id}", response_model=Job)
def get_eval(job_id: str, request: Request) -> dict[str, Any]:
    """An evaluation job's status and progress; its result when done."""
    return request.app.state.textlens.job(job_id).to_dict()
