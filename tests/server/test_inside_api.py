"""``/api/inside``: the operator's models only, the same data as the library, errors as statuses."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("transformers")
from fastapi.testclient import TestClient

from tests.server.test_api import BASE
from textlens.server import ServerSettings, create_app

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def client():
    settings = ServerSettings(preload=False, llm=None, inside_models=("smollm2-135m", ENCODER, "qwen2.5-coder-1.5b"))
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def test_models_list_what_the_operator_allows(client) -> None:
    models = {m["name"]: m for m in client.get("/api/inside/models").json()}
    assert models["smollm2-135m"]["facts"]["attention_type"] == "GQA"
    assert models[ENCODER]["facts"]["kind"] == "encoder"
    # allowed but never pulled here: listed as unavailable, with the way to get it
    assert models["qwen2.5-coder-1.5b"]["available"] is False and "pull" in models["qwen2.5-coder-1.5b"]["hint"]
    tree = client.get("/api/inside/models/smollm2-135m").json()
    assert tree["total_parameters"] == tree["facts"]["parameters"]
    assert client.get("/api/inside/models/gpt2").status_code == 403
    assert client.get("/api/inside/models/qwen2.5-coder-1.5b").status_code == 503


def test_attention_next_token_and_kv_cache(client) -> None:
    res = client.post("/api/inside/attention", json={"model": ENCODER, "text": "The bank of the river.", "layer": 1})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["layers"] == [1] and len(body["weights"][0]) == 12 and body["check"]["max_weight_error"] < 1e-4
    n = len(body["tokens"])
    assert all(len(row) == n for row in body["weights"][0][0])
    bad = client.post("/api/inside/attention", json={"model": ENCODER, "text": "x", "layer": 6})
    assert bad.status_code == 404 and "layer 6 does not exist" in bad.json()["error"]
    assert client.post("/api/inside/attention", json={"model": "/etc/passwd", "text": "x"}).status_code == 403
    nt = client.post("/api/inside/next-token", json={"model": "smollm2-135m", "prompt": "The capital of France is",
                                                      "steps": 2, "top": 3})  # fmt: skip
    assert nt.status_code == 200 and len(nt.json()["steps"]) == 2 and nt.json()["sampling"]
    kv = client.get("/api/inside/kv-cache", params={"model": "smollm2-135m", "context": 1000}).json()
    assert [r["kv_heads"] for r in kv] == [3, 9, 1]
    enc = client.get("/api/inside/kv-cache", params={"model": ENCODER})
    assert enc.status_code == 400 and "encoder" in enc.json()["error"]
