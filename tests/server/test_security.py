"""The server's boundary, through the real app: names are never paths, only what the operator allowed
loads, DNS rebinding and cross-site writes are refused, status codes come from error types."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from textlens.corpus import Document
from textlens.index import create_collection
from textlens.server import ServerSettings, create_app

BASE = "http://127.0.0.1:8000"
DOCS = [{"id": "a", "text": "Solar panels turn sunlight into electricity."}]


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # a name taken as a path would land here
    return tmp_path


def make(home: Path, **settings) -> TestClient:
    return TestClient(create_app(ServerSettings(preload=False, **settings)), base_url=BASE)


@pytest.mark.parametrize("name", [".evil", "..", "a\\b", "x\\..\\y", " lead", "a" * 65])
def test_collection_names_are_never_paths(home: Path, name: str) -> None:
    with make(home) as client:
        url = "/api/collections/" + name.replace("\\", "%5C")
        res = client.post(url + "/documents", json={"documents": DOCS, "encoder": None})
        assert res.status_code in (404, 422), res.text  # 422: the name breaks the schema's pattern
        if res.status_code == 422:
            assert res.json()["field"] == "path.name"
        assert client.get(url).status_code in (404, 422)
    assert [p.name for p in home.iterdir()] in ([], ["home"])  # nothing created beside it
    collections = home / "home" / "collections"
    assert not collections.exists() or not any(collections.iterdir())


def test_only_named_tokenizers_load(home: Path, shared_tokenizers, tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\nhello\n")
    with make(home) as client:
        for name in (str(vocab), "hf:gpt2", "../../etc/passwd"):
            res = client.post("/api/tokens/compare", json={"text": "hello", "tokenizers": [name]})
            assert res.status_code == 403, (name, res.text)
            assert "named tokenizers only" in res.json()["error"]
        unknown = client.post("/api/tokens/compare", json={"text": "hello", "tokenizers": ["gpt-5"]})
        assert unknown.status_code == 404 and "GET /api/tokenizers" in unknown.json()["hint"]
        assert client.post("/api/tokens/compare", json={"text": "hello", "tokenizers": ["gpt2"]}).status_code == 200


def test_models_a_client_names_must_be_allowed(home: Path) -> None:
    with create_collection("kw", encoder=None) as col:
        col.add([Document("a", "alpha beta")])
    with make(home, rerankers=("my-reranker",)) as client:
        enc = client.post("/api/collections/new/documents", json={"documents": DOCS, "encoder": "some/model"})
        assert enc.status_code == 403 and "encoder 'some/model' is not allowed" in enc.json()["error"]
        assert not (home / "home" / "collections" / "new").exists()
        for rerank in ("", "/etc", "cross-encoder/ms-marco-MiniLM-L-6-v2"):
            res = client.post("/api/collections/kw/search", json={"query": "beta", "mode": "keyword", "rerank": rerank})
            assert res.status_code == 403 and "not allowed" in res.json()["error"], res.text
            assert "my-reranker" in res.json()["hint"]


def test_eval_respects_the_served_collections_and_data_folders(home: Path) -> None:
    (home / "data").mkdir()
    (home / "data" / "q.tsv").write_text("q1\ta\t1\n")
    with create_collection("other", encoder=None) as col:
        col.add([Document("a", "alpha")])
    with make(home, collections=("only",), data_dirs=(home / "data",)) as client:
        body = {"collection": "other", "qrels": "q.tsv", "queries": "q.tsv", "modes": ["keyword"]}
        res = client.post("/api/eval", json=body)
        assert res.status_code == 403 and "not served here" in res.json()["error"]
        res = client.post("/api/eval", json={**body, "collection": "only", "qrels": "/etc/passwd"})
        assert res.status_code in (403, 404)
    with make(home) as client:  # no data folders configured: no client paths at all
        res = client.post("/api/eval", json={"beir_dir": str(home / "data"), "modes": ["keyword"]})
        assert res.status_code == 403 and "evaluates no files" in res.json()["error"]


def test_rest_hints_never_name_cli_flags(home: Path) -> None:
    with create_collection("kw", encoder=None) as col:
        col.add([Document("a", "alpha beta")])
    with make(home) as client:
        responses = [
            client.post("/api/collections/kw/search", json={"query": "beta", "mode": "dense"}),
            client.get("/api/collections/nope"),
            client.post("/api/collections/kw/documents", json={"documents": [{"id": "a", "text": "again"}]}),
            client.post("/api/tokens/compare", json={"text": "", "tokenizers": ["gpt2"]}),
            client.post("/api/tokens/compare", json={"text": "x", "tokenizers": ["nope"]}),
            client.post("/api/keywords", json={"texts": ["a b c"], "diversity": 0.5, "max_sum": True}),
        ]
    for res in responses:
        assert 400 <= res.status_code < 500, res.text
        hint = res.json()["hint"] or ""
        assert "--" not in hint and "textlens " not in hint, (res.json(), res.request.url)


def test_status_codes_come_from_error_types(home: Path) -> None:
    with make(home) as client:
        client.post("/api/collections/c/documents", json={"documents": DOCS, "encoder": None})
        assert client.get("/api/collections/missing").status_code == 404
        assert client.delete("/api/collections/c/documents/zz").status_code == 404
        assert client.get("/api/eval/nope").status_code == 404
        dup = client.post("/api/collections/c/documents", json={"documents": DOCS})
        assert dup.status_code == 409 and "upsert" in dup.json()["hint"]


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "hybrid", "fusion": "convex", "weights": [0, 0]},
        {"mode": "keyword", "weights": [-1, 2]},
        {"mode": "keyword", "filters": {"n": {"in": 5}}},
        {"mode": "keyword", "filters": {"n": {"eq": {"a": 1}}}},
        {"mode": "keyword", "filters": {"n": {"a": 1}}},
        {"mode": "keyword", "filters": {"n": [[1]]}},
        {"mode": "hybrid", "bm25": [0.0, 0.0], "rerank": ""},
    ],
)
def test_bad_search_options_are_400s_not_500s(home: Path, body: dict) -> None:
    with create_collection("c", encoder=None) as col:
        col.add([Document("a", "alpha beta", metadata={"n": 1}), Document("b", "beta", metadata={"n": 2})])
    with TestClient(create_app(ServerSettings(preload=False)), base_url=BASE, raise_server_exceptions=False) as client:
        res = client.post("/api/collections/c/search", json={"query": "beta", **body})
        assert res.status_code in (400, 403, 422), res.text  # 422: the schema says so (weights are >= 0)
        assert res.json()["error"]


def test_a_list_filter_means_in(home: Path) -> None:
    with create_collection("c", encoder=None) as col:
        col.add([Document("a", "beta", metadata={"n": 1}), Document("b", "beta", metadata={"n": 2})])
        assert col.search("beta", mode="keyword", filters={"n": [2, 3]}).ids() == ["b"]


# -- DNS rebinding and cross-site requests (issue: the local server trusts any web page) -------------------


def test_a_foreign_host_is_refused_before_any_route(home: Path) -> None:
    with make(home) as client:
        for method, url, body in (
            ("GET", "/api/collections", None),
            ("POST", "/api/collections/rebind/documents", {"documents": DOCS, "encoder": None}),
        ):
            res = client.request(method, url, json=body, headers={"Host": "attacker.example:8000"})
            assert res.status_code == 400 and "does not name this server" in res.json()["error"]
        assert not (home / "home" / "collections" / "rebind").exists()
        for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
            assert client.get("/api/collections", headers={"Host": host}).status_code == 200, host


def test_an_allowed_host_passes(home: Path) -> None:
    with make(home, allowed_hosts=("textlens.internal",)) as client:
        assert client.get("/api/collections", headers={"Host": "textlens.internal:8000"}).status_code == 200
        assert client.get("/api/collections", headers={"Host": "other.internal"}).status_code == 400
    with make(home, allowed_hosts=("*",)) as client:
        assert client.get("/api/collections", headers={"Host": "anything"}).status_code == 200


def test_a_foreign_origin_cannot_write(home: Path) -> None:
    body = {"documents": DOCS, "encoder": None}
    with make(home, cors_origins=("https://notebook.example",)) as client:
        for origin in ("https://attacker.example", "null", "http://127.0.0.1:9999"):
            res = client.post("/api/collections/x/documents", json=body, headers={"Origin": origin})
            assert res.status_code == 403 and "may not change anything" in res.json()["error"], origin
        assert not (home / "home" / "collections" / "x").exists()
        # reads from a foreign page are not blocked by the server (the browser's same-origin rule keeps
        # their answers from the page); the UI's own origin, an allowed origin and no origin may write
        assert client.get("/api/collections", headers={"Origin": "https://attacker.example"}).status_code == 200
        for headers in ({"Origin": BASE}, {"Origin": "https://notebook.example"}, {}):
            assert (
                client.post("/api/collections/x/documents", json={**body, "upsert": True}, headers=headers).status_code
                == 200
            )


def test_the_server_logs_requests_with_an_id(home: Path, caplog) -> None:
    with caplog.at_level("INFO", logger="textlens"), make(home) as client:
        res = client.get("/api/collections", headers={"X-Request-ID": "abc123"})
    assert res.headers["x-request-id"] == "abc123"
    assert any("abc123 GET /api/collections 200" in r.getMessage() for r in caplog.records)


def test_preload_loads_the_encoders_of_served_collections(home: Path) -> None:
    from textlens.config import DEFAULT_ENCODER
    from textlens.embed import _LOADED

    pytest.importorskip("sentence_transformers")
    with create_collection("dense") as col:
        col.add([Document("a", "Solar panels turn sunlight into electricity.")])
    _LOADED.clear()
    with TestClient(create_app(ServerSettings()), base_url=BASE) as client:
        client.app.state.textlens.ready.wait(120)
        health = client.get("/healthz")
        models = health.json()["models"]
        assert health.status_code == 200 and models[f"encoder {DEFAULT_ENCODER}"] == "ready"
        assert models["tokenizer gpt-4"] == "ready" and set(models.values()) == {"ready"}
        assert f"onnx:{DEFAULT_ENCODER}" in _LOADED  # loaded (by the default backend) before the first dense query


def test_jobs_are_bounded_and_expire() -> None:
    import threading

    from textlens.errors import NotFound
    from textlens.server.state import AppState, TooBusy

    state = AppState(ServerSettings(max_running_jobs=1, job_ttl_s=0.2, max_jobs=2, preload=False))
    release = threading.Event()
    first = state.start_job("eval", lambda job: release.wait(10))
    with pytest.raises(TooBusy, match="at most 1"):
        state.start_job("eval", lambda job: None)
    release.set()
    while state.job(first.id).finished is None:
        time.sleep(0.01)
    second = state.start_job("eval", lambda job: 42)
    while state.job(second.id).finished is None:
        time.sleep(0.01)
    assert state.job(second.id).result == 42
    time.sleep(0.3)
    with pytest.raises(NotFound):
        state.job(first.id)  # finished longer ago than the TTL: gone
