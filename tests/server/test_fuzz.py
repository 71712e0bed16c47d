"""Fuzzing every endpoint of the OpenAPI schema with hypothesis: no input gives a 500."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from textlens.corpus import Document
from textlens.index import create_collection
from textlens.server import ServerSettings, create_app

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "query",
    "mode",
    "k",
    "filters",
    "fusion",
    "weights",
    "candidates",
    "group_by_document",
    "text",
    "tokenizers",
    "categories",
    "documents",
    "upsert",
    "encoder",
    "beir_dir",
    "modes",
    "split",
    "id",
    "texts",
    "ngram_range",
    "k",
    "llm",
    "llm_mode",
    "languages",
    "diversity",
    "max_sum",
    "nr_candidates",
    "seed_keywords",
    "merge",
    "order",
    "bm25",
]
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6) | json_values
names = st.sampled_from(["fuzz", "missing", "..", "a/b", "x" * 70, "ok-name"]) | st.text(max_size=12)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    import os

    os.environ["TEXTLENS_HOME"] = str(tmp_path_factory.mktemp("fuzz-home"))
    with create_collection("fuzz", encoder=None) as col:
        col.add([Document("a", "alpha beta", metadata={"n": 1}), Document("b", "beta gamma", metadata={"n": 2})])
    # half the requests carry the API key, so write endpoints are fuzzed behind it too
    with TestClient(
        create_app(ServerSettings(api_key="k", max_body_bytes=100_000)),
        raise_server_exceptions=False,
        base_url="http://127.0.0.1",
    ) as c:
        assert c.app.state.textlens.ready.wait(180)  # /healthz is 503 until the tokenizers are loaded
        yield c


def _routes(client) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [(path, method) for path, ops in spec["paths"].items() for method in ops]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True
)
@given(data=st.data())
def test_no_input_gives_a_server_error(client, data, shared_tokenizers) -> None:
    path, method = data.draw(st.sampled_from(_routes(client)))
    url = path
    for param in ("{name}", "{doc_id}", "{job_id}"):
        url = url.replace(param, quote(data.draw(names), safe=""))
    body = data.draw(bodies)
    headers = {"X-API-Key": "k"} if data.draw(st.booleans()) else {}
    response = client.request(method.upper(), url, json=body if method in ("post", "put") else None, headers=headers)
    assert response.status_code < 500, (method, url, body, response.text[:300])


def test_the_collection_survives_the_fuzzing(client) -> None:
    hits = client.post("/api/collections/fuzz/search", json={"query": "beta", "mode": "keyword"}).json()["hits"]
    assert sorted(h["doc_id"] for h in hits) == ["a", "b"]
    assert client.get("/api/collections/fuzz").json()["documents"] == 2
    assert (Path(os.environ["TEXTLENS_HOME"]) / "collections/fuzz/collection.json").is_file()
