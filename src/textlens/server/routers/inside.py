"""Inside endpoints: ``textlens inside`` over HTTP, on the models the operator allows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field

from textlens.server.schemas import (
    AttentionView,
    Body,
    CacheMemory,
    InsideModel,
    ModuleTree,
    NextTokens,
    responses,
)

router = APIRouter(prefix="/api/inside", tags=["inside"], responses=responses(404, 503))
MAX_CHARS = 4000  # attention grows with the square of the tokens


def _model(request: Request, name: str) -> str:
    return request.app.state.textlens.inside_model(name)


class AttentionRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"model": "gpt2", "text": "The cat sat on the mat."}]})
    model: str = Field(..., description="A model the server's operator allowed (GET /api/inside/models).")
    text: str = Field(..., min_length=1, max_length=MAX_CHARS)
    layer: int | None = Field(None, ge=0, description="Default the last.")
    generate: int = Field(0, ge=0, le=50, description="Also the attention of tokens the model then writes.")
    check: bool = Field(True, description="Recompute the layer's attention step by step and compare.")


class NextTokenRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"model": "gpt2", "prompt": "The capital of France is"}]})
    model: str
    prompt: str = Field(..., min_length=1, max_length=MAX_CHARS)
    steps: int = Field(5, ge=1, le=20)
    top: int = Field(5, ge=1, le=50)
    top_k: int = Field(10, ge=1, le=1000)
    top_p: float = Field(0.9, gt=0, le=1)


@router.get("/models", response_model=list[InsideModel])
def list_inside_models(request: Request) -> list[dict[str, Any]]:
    """The models clients may look inside, with their architecture facts (or why they cannot load)."""
    from textlens.errors import TextlensError
    from textlens.inside import architecture

    out = []
    for name in request.app.state.textlens.settings.inside_models:
        try:
            out.append({"name": name, "available": True, "facts": architecture(name).to_dict()})
        except TextlensError as exc:
            out.append({"name": name, "available": False, "error": exc.message, "hint": exc.rest_hint})
    return out


@router.get("/models/{name}", response_model=ModuleTree)
def get_inside_model(name: str, request: Request) -> dict[str, Any]:
    """Facts and the module tree (shapes and parameters per module)."""
    from textlens.inside import module_tree

    return module_tree(_model(request, name)).to_dict()


@router.post("/attention", response_model=AttentionView)
def attention(body: AttentionRequest, request: Request) -> dict[str, Any]:
    """Tokens and one layer's attention weights (every head), with the step-by-step check."""
    from textlens.inside import architecture, attention_steps
    from textlens.inside import attention as run

    name = _model(request, body.model)
    facts = architecture(name)
    layer = facts.layers - 1 if body.layer is None else body.layer
    view = run(body.text, name, generate=body.generate, layers=[layer])
    out = view.to_dict(layers=[layer])
    out["facts"] = facts.to_dict()
    out["check"] = attention_steps(body.text, layer, name).to_dict() if body.check else None
    return out


@router.post("/next-token", response_model=NextTokens)
def next_token(body: NextTokenRequest, request: Request) -> dict[str, Any]:
    """The LM head by hand at each greedy step, and what top-k, top-p and temperature leave."""
    from textlens.inside import next_tokens, sampling

    name = _model(request, body.model)
    out = next_tokens(body.prompt, name, steps=body.steps, top=body.top).to_dict()
    rows = sampling(body.prompt, name, top_k=body.top_k, top_p=body.top_p)
    out["sampling"] = [{"setting": s.setting, "kept": s.kept, "tokens": s.tokens} for s in rows]
    return out


@router.get("/kv-cache", response_model=list[CacheMemory])
def kv_cache(
    request: Request,
    model: str = Query(...),
    context: int | None = Query(None, ge=1, le=10_000_000),
    batch: int = Query(1, ge=1, le=100_000),
) -> list[dict[str, Any]]:
    """Cache memory of the model as built and as MHA and MQA variants (fp16)."""
    from textlens.inside import architecture, cache_memory

    return [r.to_dict() for r in cache_memory(architecture(_model(request, model)), context=context, batch=batch)]
