"""Searches answered by worker processes (``textlens serve --search-workers N``): the same answers
as the collection in this process, errors that keep their status and hint, writes seen by the
next search, and a worker killed mid-service costing no request."""

from __future__ import annotations

import os
import pickle
import signal

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from tests.server.test_api import BASE, wait_ready
from textlens.errors import InputError
from textlens.index import CollectionNotFound, open_collection
from textlens.server import ServerSettings, create_app

NAME = "workers-energy"
DOCS = [
    {"id": "a", "text": "Solar panels turn sunlight into electricity.", "title": "Solar", "metadata": {"y": 1}},
    {"id": "b", "text": "Wind turbines spin in the wind and make power.", "title": "Wind", "metadata": {"y": 2}},
    {"id": "c", "text": "Hydroelectric dams store water to drive turbines.", "title": "Hydro", "metadata": {"y": 3}},
]
QUERIES = ["sunlight", "turbines that make power", "water"]


def test_errors_pickle_whole() -> None:
    error = InputError("bad filter on field 'y'", hint="Use --filter y=1.", api_hint="Use filters {'y': 1}.")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is InputError and (again.message, again.hint, again.rest_hint) == (
        error.message,
        error.hint,
        error.api_hint,
    )
    assert str(again) == str(error)
    assert isinstance(pickle.loads(pickle.dumps(CollectionNotFound("no x", hint="h"))), CollectionNotFound)


@pytest.fixture
def served():
    settings = ServerSettings(collections=(NAME,), search_workers=2, llm=None)
    with TestClient(create_app(settings), base_url=BASE) as client:
        wait_ready(client)
        yield client, client.app.state.textlens.searchers
    open_collection(NAME).delete_collection()


def search(client, **body) -> dict:
    res = client.post(f"/api/collections/{NAME}/search", json=body)
    assert res.status_code == 200, res.text
    return res.json()


def local(**options) -> dict:
    with open_collection(NAME) as col:
        return col.search(options.pop("query"), **options).to_dict()


def same(a: dict, b: dict) -> bool:
    keep = lambda r: [(h["doc_id"], round(h["score"], 5), h["highlights"]) for h in r["hits"]]  # noqa: E731
    return keep(a) == keep(b)


def test_workers_answer_as_the_collection_does(served) -> None:
    client, workers = served
    assert workers is not None and workers.workers == 2
    assert client.post(f"/api/collections/{NAME}/documents", json={"documents": DOCS}).status_code == 200
    for query in QUERIES:
        for mode in ("keyword", "dense", "hybrid"):
            body = {"query": query, "mode": mode, "k": 3}
            assert same(search(client, **body), local(**body)), (query, mode)
    filtered = {"query": "turbines", "mode": "hybrid", "filters": {"y": {"gte": 3}}}
    assert [h["doc_id"] for h in search(client, **filtered)["hits"]] == ["c"]

    # an error raised in a worker keeps its type (a filter on a field no document has: 409) and its REST hint
    bad = client.post(f"/api/collections/{NAME}/search", json={"query": "x", "filters": {"colour": "red"}})
    assert bad.status_code == 409 and "colour" in bad.json()["error"] and bad.json()["hint"]

    # a write in the server process is seen by the workers' next search
    new = {"id": "d", "text": "Geothermal plants tap the heat under volcanoes.", "title": "Geothermal"}
    assert client.post(f"/api/collections/{NAME}/documents", json={"documents": [new]}).status_code == 200
    assert search(client, query="volcanoes", mode="keyword")["hits"][0]["doc_id"] == "d"
    assert client.delete(f"/api/collections/{NAME}/documents/d").status_code == 200
    assert search(client, query="volcanoes", mode="keyword")["hits"] == []


def test_a_killed_worker_costs_no_request(served, caplog) -> None:
    client, workers = served
    client.post(f"/api/collections/{NAME}/documents", json={"documents": DOCS})
    expected = local(query="sunlight", mode="hybrid")
    pids = set(workers.start())
    assert pids and os.getpid() not in pids
    os.kill(next(iter(pids)), signal.SIGKILL)
    for _ in range(6):  # the first may find the pool broken: answered here, then new workers
        assert same(search(client, query="sunlight", mode="hybrid"), expected)
    assert "a search worker stopped" in caplog.text
    assert not pids & set(workers.start())


def test_the_operators_rules_hold_in_front_of_the_workers(served) -> None:
    client, _ = served
    client.post(f"/api/collections/{NAME}/documents", json={"documents": DOCS})
    other = client.post("/api/collections/elsewhere/search", json={"query": "x"})
    assert other.status_code == 403  # not served: refused before any worker
    rerank = client.post(f"/api/collections/{NAME}/search", json={"query": "x", "rerank": "some/model"})
    assert rerank.status_code == 403
