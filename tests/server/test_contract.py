"""The REST API's contract as a client generator reads it: the OpenAPI document states every rule the server
applies (names, strict types, no unknown fields, one error shape, response models, the event stream), and the
server keeps to it, paths of its own disk never included."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from textlens.server import ServerSettings, create_app

KEY = {"X-API-Key": "s3cret"}
DOCS = [{"id": "a", "text": "Solar panels turn sunlight into electricity.", "title": "Solar"}]


@pytest.fixture
def client(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    with TestClient(create_app(ServerSettings(api_key="s3cret")), base_url="http://127.0.0.1") as c:
        c.post("/api/collections/solar/documents", json={"documents": DOCS, "encoder": None}, headers=KEY)
        yield c


@pytest.fixture
def document(client) -> dict:
    return client.get("/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            yield f"{method.upper()} {path}", op


def test_operation_ids_are_short_and_unique(document) -> None:
    ids = [op["operationId"] for _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert {"search", "ask", "add_documents", "delete_document", "list_collections", "get_collection"} <= set(ids)
    assert all(len(i) <= 24 and "_api_" not in i for i in ids), ids


def test_every_operation_has_a_response_model_and_one_error_shape(document) -> None:
    for where, op in operations(document):
        ok = op["responses"].get("200") or op["responses"]["202"]
        assert ok["content"]["application/json"]["schema"], where
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert {"400", "403", "413", "422", "500"} <= set(errors), where
        for code, r in errors.items():
            assert r["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                where,
                code,
            )
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_request_bodies_are_strict_with_examples(document) -> None:
    schemas = document["components"]["schemas"]
    for where, op in operations(document):
        if "requestBody" not in op:
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        body = schemas[ref]
        assert body.get("additionalProperties") is False, where
        has_example = "examples" in body or any("examples" in p for p in body["properties"].values())
        assert has_example, where


def test_names_follow_the_stated_pattern(document) -> None:
    params = document["paths"]["/api/collections/{name}/search"]["post"]["parameters"]
    name = next(p for p in params if p["name"] == "name")["schema"]
    assert name["maxLength"] == 64 and name["pattern"].startswith("^[A-Za-z0-9]")


def test_the_answer_stream_is_documented(document) -> None:
    ok = document["paths"]["/api/collections/{name}/ask"]["post"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/event-stream"}
    assert "token" in ok["description"] and "answer" in ok["description"] and "error" in ok["description"]


@pytest.mark.parametrize(
    ("request_", "status", "field"),
    [
        (("post", "/api/collections/solar/search", {"content": b"{not json"}), 422, "body"),
        (("post", "/api/collections/solar/search", {"json": {"query": "sun", "colour": 1}}), 422, "body.colour"),
        (("post", "/api/collections/solar/search", {"json": {"query": "sun", "k": "5"}}), 422, "body.k"),
        (("post", "/api/collections/solar/documents", {"json": {"documents": DOCS, "upsert": 0}}), 422, "body.upsert"),
        (("post", "/api/collections/solar/search", {"json": {}}), 422, "body.query"),
        (("get", "/api/collections/" + "a" * 65, {}), 422, "path.name"),
        (("get", "/api/collections/nope", {}), 404, None),
        (("post", "/api/collections/solar/search", {"json": {"query": "sun", "mode": "dense"}}), 400, None),
    ],
)
def test_every_error_has_one_shape(client, request_, status, field) -> None:
    method, url, kwargs = request_
    headers = {**KEY, "content-type": "application/json"} if "content" in kwargs else KEY
    res = client.request(method, url, headers=headers, **kwargs)
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) <= {"error", "hint", "field"} and body["error"] and body["hint"], body
    assert body.get("field") == field


def test_a_body_in_another_encoding_is_read_or_refused_in_the_shape(client) -> None:
    body = '{"query": "Sonnenkollektoren für Strom", "mode": "keyword"}'
    json_header = {"content-type": "application/json"}
    latin1 = client.post("/api/collections/solar/search", content=body.encode("latin-1"), headers=json_header)
    assert latin1.status_code == 422 and latin1.json()["field"] == "body" and "UTF-8" in latin1.json()["hint"]
    utf16 = client.post("/api/collections/solar/search", content=body.encode("utf-16"), headers=json_header)
    assert utf16.status_code == 200 and utf16.json()["query"] == "Sonnenkollektoren für Strom"  # JSON's BOM rule


def test_no_server_path_in_any_response(client, tmp_path) -> None:
    home = str(tmp_path)
    broken = tmp_path / "home/collections/broken"
    broken.mkdir(parents=True)
    (broken / "collection.json").write_text("{not json")
    listed = {c["name"]: c for c in client.get("/api/collections").json()}
    assert listed["broken"]["error"] and home not in listed["broken"]["error"]
    broken.joinpath("collection.json").unlink()
    broken.rmdir()
    for res in (
        client.get("/api/collections"),
        client.get("/api/collections/solar"),
        client.get("/api/collections/nope"),
        client.post("/api/collections/nope/search", json={"query": "x"}),
    ):
        assert home not in res.text, res.text
    assert client.get("/api/collections").json() == [{"name": "solar", "documents": 1, "encoder": None, "error": None}]


def test_a_50_mb_body_is_refused_in_the_shape_and_nothing_is_lost(client) -> None:
    res = client.post(
        "/api/collections/solar/documents",
        content=b'{"documents": [{"id": "big", "text": "' + b"x" * 50_000_000 + b'"}]}',
        headers={**KEY, "content-type": "application/json"},
    )
    assert res.status_code == 413 and set(res.json()) <= {"error", "hint", "field"} and res.json()["hint"]
    assert client.get("/api/collections/solar").json()["documents"] == 1  # what was committed stays
