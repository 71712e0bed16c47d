"""The REST API, through the real app (FastAPI TestClient over httpx), error paths included."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from textlens.errors import InputError
from textlens.server import ServerSettings, create_app
from textlens.server.security import check_bind

DOCS = [
    {"id": "a", "text": "Solar panels turn sunlight into electricity.", "title": "Solar", "metadata": {"y": 1}},
    {"id": "b", "text": "Wind turbines spin in the wind.", "title": "Wind", "metadata": {"y": 2}},
]


@pytest.fixture
def client(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    settings = ServerSettings(api_key="s3cret", max_body_bytes=200_000, data_dirs=(tmp_path,))
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


KEY = {"X-API-Key": "s3cret"}
BASE = "http://127.0.0.1"  # the Host header must name the server (see test_security.py)


def wait_ready(client, seconds: float = 120) -> dict:
    deadline = time.time() + seconds
    while (res := client.get("/healthz")).status_code == 503:
        assert res.json()["ready"] is False and time.time() < deadline
        time.sleep(0.1)
    assert res.status_code == 200 and res.json()["ready"] is True
    return res.json()


def test_health_and_openapi(client) -> None:
    health = wait_ready(client)
    assert health["status"] == "ok" and set(health["models"].values()) <= {"ready"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/tokens/compare",
        "/api/tokenizers",
        "/api/collections",
        "/api/collections/{name}",
        "/api/collections/{name}/search",
        "/api/collections/{name}/documents",
        "/api/collections/{name}/documents/{doc_id}",
        "/api/eval",
        "/healthz",
    } <= set(paths)


def test_tokenizers_and_compare(client, shared_tokenizers) -> None:
    names = {t["name"]: t for t in client.get("/api/tokenizers").json()}
    assert names["gpt-4"]["available"] and names["gpt-4"]["vocab_size"] == 100277
    data = client.post("/api/tokens/compare", json={"text": "héllo 👋", "tokenizers": ["gpt-4", "bert-base-uncased"]})
    assert data.status_code == 200
    body = data.json()
    assert [t["name"] for t in body["tokenizers"]] == ["gpt-4", "bert-base-uncased"]
    assert body["tokenizers"][0]["segments"][0]["ids"]
    unknown = client.post("/api/tokens/compare", json={"text": "x", "tokenizers": ["nope"]})
    assert unknown.status_code == 404 and "unknown tokenizer" in unknown.json()["error"]
    empty = client.post("/api/tokens/compare", json={"text": "", "tokenizers": ["gpt-4"]})
    assert empty.status_code == 400 and empty.json()["hint"]


def test_token_premiums_by_language(client, shared_tokenizers) -> None:
    """The UDHR by default: a job the first time (each tokenizer counted once), then at once from the counts the
    server kept, whatever the other options; or a parallel text in the request, at once."""
    started = client.post("/api/tokens/languages", json={"tokenizers": ["gpt-4o"], "top": 3})
    assert started.status_code == 202 and started.json()["kind"] == "languages"
    deadline = time.time() + 120
    while (job := client.get(f"/api/tokens/languages/jobs/{started.json()['id']}").json())["finished"] is None:
        assert time.time() < deadline
        time.sleep(0.2)
    assert job["status"] == "done" and job["progress"] == {"stage": "tokenizers", "done": 1, "total": 1}
    body = job["result"]
    assert len(body["languages"]) == 527 and body["pivot"] == "eng" and len(body["tokenizers"][0]["dearest"]) == 3
    again = client.post("/api/tokens/languages", json={"tokenizers": ["gpt-4o"], "top": 5, "words": 10})
    assert again.status_code == 200 and len(again.json()["tokenizers"][0]["dearest"]) == 5
    assert [r["cells"]["gpt-4o"]["premium"] for r in again.json()["languages"]] == [
        r["cells"]["gpt-4o"]["premium"] for r in body["languages"]
    ]
    assert client.get("/api/tokens/languages/jobs/nope").status_code == 404
    texts = {"en": {"1": "Good morning.", "2": "Thank you."}, "de": {"1": "Guten Morgen."}, "xx": " "}
    mine = client.post(
        "/api/tokens/languages",
        json={"tokenizers": ["gpt-4"], "pivot": "en", "texts": texts, "prices": {"gpt-4": 10}, "words": 500},
    )
    assert mine.status_code == 200, mine.text
    data = mine.json()
    german = data["languages"][1]["cells"]["gpt-4"]
    assert data["languages"][1]["segments"] == 1 and german["doc_cost_usd"] == german["doc_tokens"] * 10 / 1e6
    assert {n["kind"] for n in data["notes"]} >= {"missing", "empty"} and "xx" in data["left_out"]
    missing = client.post("/api/tokens/languages", json={"tokenizers": ["gpt-4"], "texts": texts})
    assert missing.status_code == 409 and "pivot language 'eng' is not in the request" in missing.json()["error"]
    assert "en" in missing.json()["hint"]
    path = client.post("/api/tokens/languages", json={"tokenizers": ["/etc/passwd"], "texts": texts})
    assert path.status_code == 403
    assert client.post("/api/tokens/languages", json={"prices": {"gpt-4": 0}}).status_code == 422
    assert client.post("/api/tokens/languages", json={"lang_field": "x"}).status_code == 422  # files only


def test_documents_search_delete_and_the_api_key(client) -> None:
    body = {"documents": DOCS, "encoder": None}
    assert client.post("/api/collections/energy/documents", json=body).status_code == 401
    assert (
        client.post("/api/collections/energy/documents", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    )
    added = client.post("/api/collections/energy/documents", json=body, headers=KEY)
    assert added.status_code == 200 and added.json()["added"] == 2
    again = client.post("/api/collections/energy/documents", json=body, headers=KEY)
    assert again.status_code == 409 and "upsert" in again.json()["hint"]
    upsert = client.post(
        "/api/collections/energy/documents", json={**body, "upsert": True}, headers={"Authorization": "Bearer s3cret"}
    )
    assert upsert.json()["replaced"] == 2
    hits = client.post("/api/collections/energy/search", json={"query": "sunlight", "mode": "keyword"}).json()["hits"]
    assert [h["doc_id"] for h in hits] == ["a"] and hits[0]["matched_terms"] == ["sunlight"]
    filtered = client.post(
        "/api/collections/energy/search",
        json={"query": "wind sunlight", "mode": "keyword", "filters": {"y": {"gte": 2}}},
    )
    assert [h["doc_id"] for h in filtered.json()["hits"]] == ["b"]
    info = client.get("/api/collections/energy").json()
    assert info["documents"] == 2 and info["fields"] == ["y"]
    assert [c["name"] for c in client.get("/api/collections").json()] == ["energy"]
    assert client.delete("/api/collections/energy/documents/a").status_code == 401
    assert client.delete("/api/collections/energy/documents/a", headers=KEY).json() == {"deleted": 1, "documents": 1}
    assert client.delete("/api/collections/energy/documents/a", headers=KEY).status_code == 404


def test_error_paths(client) -> None:
    assert client.get("/api/collections/missing").status_code == 404
    traversal = client.get("/api/collections/..%2F..%2Fetc")
    assert traversal.status_code in (400, 404)
    bad_name = client.post("/api/collections/bad%20name/documents", json={"documents": DOCS}, headers=KEY)
    assert bad_name.status_code == 422 and bad_name.json()["field"] == "path.name"
    assert "should match pattern" in bad_name.json()["error"]
    client.post("/api/collections/c/documents", json={"documents": DOCS, "encoder": None}, headers=KEY)
    bad_mode = client.post("/api/collections/c/search", json={"query": "x", "mode": "fuzzy"})
    assert bad_mode.status_code == 422 and bad_mode.json()["field"] == "body.mode"
    bad_filter = client.post(
        "/api/collections/c/search", json={"query": "x", "mode": "keyword", "filters": {"colour": "red"}}
    )
    # a filter on a field no document has: a 409, as it fits once documents have the field
    assert bad_filter.status_code == 409 and "unknown filter field" in bad_filter.json()["error"]
    twice = client.post("/api/collections/c/documents", json={"documents": [DOCS[0], DOCS[0]]}, headers=KEY)
    assert twice.status_code == 409 and "duplicate ids within one batch: a" in twice.json()["error"]
    blank = client.post("/api/collections/c/documents", json={"documents": [{"id": "z", "text": " \n"}]}, headers=KEY)
    assert blank.status_code == 422 and blank.json()["field"] == "body.documents.0.text"
    from textlens.index import create_collection

    create_collection("empty", encoder=None).close()  # asked before anything else: the status line says 409
    empty = client.post("/api/collections/empty/ask", json={"question": "Anything?", "stream": True})
    assert empty.status_code == 409 and "is empty" in empty.json()["error"]
    dense = client.post("/api/collections/c/search", json={"query": "x", "mode": "dense"})
    assert dense.status_code == 400 and "no vectors" in dense.json()["error"]
    huge = client.post(
        "/api/collections/c/documents", content=b"x" * 300_000, headers={**KEY, "content-type": "application/json"}
    )
    assert huge.status_code == 413
    assert client.get("/api/eval/nope").status_code == 404


def test_keywords(client) -> None:
    text = "A volcano erupts: lava and volcanic ash bury the town below the volcano."
    body = {"texts": [text, "the of"], "ngram_range": [1, 2], "k": 3, "diversity": 0.3}
    first, empty = client.post("/api/keywords", json=body).json()
    assert len(first["keywords"]) == 3 and first["note"] is None
    assert any("volcan" in k["keyword"].lower() for k in first["keywords"])
    start, end = first["keywords"][0]["spans"][0]
    assert text[start:end].lower().startswith(first["keywords"][0]["keyword"].lower().split()[0])
    assert empty["keywords"] == [] and "lower --ngram-range" in empty["note"]
    client.post("/api/collections/kw/documents", json={"documents": [{"id": "v", "text": text}]}, headers=KEY)
    same = {k: v for k, v in body.items() if k != "texts"}
    from_collection = client.post("/api/keywords", json={**same, "collection": "kw", "ids": ["v"]}).json()
    assert [k["keyword"] for k in from_collection[0]["keywords"]] == [k["keyword"] for k in first["keywords"]]
    assert client.post("/api/keywords", json={"collection": "kw", "ids": ["nope"]}).status_code == 400
    assert client.post("/api/keywords", json={"collection": "kw"}).status_code == 400
    bad = client.post("/api/keywords", json={"texts": [text], "ngram_range": [3, 1]})
    assert bad.status_code == 400 and "range" in bad.json()["error"]
    bad = client.post("/api/keywords", json={"texts": [text], "max_sum": True, "diversity": 0.5})
    assert bad.status_code == 400 and "one way" in bad.json()["error"]


def test_eval_runs_as_a_job(client, tmp_path: Path) -> None:
    pytest.importorskip("ranx")
    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": d["id"], "title": d["title"], "text": d["text"]}) for d in DOCS)
    )
    (root / "queries.jsonl").write_text('{"_id": "q1", "text": "sunlight"}\n{"_id": "q2", "text": "turbines"}\n')
    (root / "qrels/test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\ta\t1\nq2\tb\t1\n")
    assert client.post("/api/eval", json={"beir_dir": str(root), "modes": ["keyword"]}).status_code == 401
    job = client.post("/api/eval", json={"beir_dir": str(root), "modes": ["keyword"]}, headers=KEY)
    assert job.status_code == 202
    job_id = job.json()["id"]
    deadline = time.time() + 120
    while (state := client.get(f"/api/eval/{job_id}").json())["status"] in ("queued", "running"):
        assert time.time() < deadline
        time.sleep(0.2)
    assert state["status"] == "done", state
    assert state["result"]["results"]["keyword"]["ndcg@10"] == 1.0
    missing = client.post("/api/eval", json={"beir_dir": "nope"}, headers=KEY)
    assert missing.status_code == 404 and "does not exist" in missing.json()["error"]
    outside = client.post("/api/eval", json={"beir_dir": str(tmp_path.parent)}, headers=KEY)
    assert outside.status_code == 403 and "outside the server's data folders" in outside.json()["error"]
    dotdot = client.post("/api/eval", json={"beir_dir": "mini/../.."}, headers=KEY)
    assert dotdot.status_code == 403
    nul = client.post("/api/eval", json={"beir_dir": "mini\u0000x"}, headers=KEY)  # found by schemathesis
    assert nul.status_code == 400 and "not a usable path" in nul.json()["error"]
    (tmp_path / "empty").mkdir()
    failed = client.post("/api/eval", json={"beir_dir": "empty"}, headers=KEY).json()["id"]
    while (state := client.get(f"/api/eval/{failed}").json())["status"] in ("queued", "running"):
        time.sleep(0.1)
    assert state["status"] == "failed" and "not a complete BEIR folder" in state["error"]


def test_served_collections_are_restricted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    with TestClient(create_app(ServerSettings(collections=("only",))), base_url=BASE) as c:
        res = c.post("/api/collections/other/documents", json={"documents": DOCS, "encoder": None})
        assert res.status_code == 403 and "not served here" in res.json()["error"]


def test_bind_rule() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("0.0.0.0", "key")
    with pytest.raises(InputError, match="without an API key"):
        check_bind("0.0.0.0", None)
