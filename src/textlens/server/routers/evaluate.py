"""Evaluation as a background job: start it, then poll its progress and result."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from textlens.errors import InputError
from textlens.server.security import require_key

router = APIRouter(prefix="/api/eval", tags=["evaluate"])


class EvalRequest(BaseModel):
    beir_dir: str | None = Field(None, description="A BEIR folder on the server.")
    split: str = "test"
    collection: str | None = Field(None, description="With qrels and queries: evaluate this collection.")
    qrels: str | None = None
    queries: str | None = None
    modes: list[Literal["keyword", "dense", "hybrid"]] = ["keyword", "dense", "hybrid"]
    rerank: str | None = None


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


@router.post("", dependencies=[Depends(require_key)], status_code=202)
def start_eval(body: EvalRequest, request: Request) -> dict[str, Any]:
    from textlens.evaluate import ModeSpec, evaluate_beir, evaluate_collection

    specs = [ModeSpec(m) for m in body.modes] + ([ModeSpec("hybrid", rerank=body.rerank)] if body.rerank else [])
    if not body.beir_dir and not (body.collection and body.qrels and body.queries):
        raise InputError("nothing to evaluate", hint="Send beir_dir, or collection with qrels and queries.")

    def work(job) -> dict[str, Any]:
        def progress(stage: str, done: int, total: int) -> None:
            job.progress = {"stage": stage, "done": done, "total": total}

        if body.beir_dir:
            result = evaluate_beir(body.beir_dir, specs, split=body.split, progress=progress)
        else:
            result = evaluate_collection(body.collection, body.qrels, body.queries, specs, progress=progress)
        return {**result.to_dict(), "per_query": per_query_rows(result)}

    job = request.app.state.textlens.start_job("eval", work)
    return job.to_dict()


@router.get("/{job_id}")
def eval_status(job_id: str, request: Request) -> dict[str, Any]:
    job = request.app.state.textlens.jobs.get(job_id)
    if job is None:
        raise InputError(f"no evaluation job {job_id!r}", hint="Start one with POST /api/eval.")
    return job.to_dict()
