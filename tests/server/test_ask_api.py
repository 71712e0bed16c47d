"""POST /api/collections/{name}/ask on the real app and SmolLM2: JSON, server-sent events, refusals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("xllamacpp")
from fastapi.testclient import TestClient

from tests.live import live_server
from textlens.corpus import Document
from textlens.index import create_collection
from textlens.server import ServerSettings, create_app

BASE = "http://127.0.0.1"
QUESTION = {"question": "Which planet is called the Red Planet?", "k": 3}


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    col = create_collection("planets", encoder=None)
    col.add(
        [
            Document("mars", "Mars is the fourth planet from the Sun. It is called the Red Planet.", "Mars"),
            Document("venus", "Venus is the second planet from the Sun and the hottest planet.", "Venus"),
        ]
    )
    col.close()
    return tmp_path


def _client(**settings) -> TestClient:
    return TestClient(create_app(ServerSettings(preload=False, **settings)), base_url=BASE)


def _events(raw: str) -> list[tuple[str, dict]]:
    out = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_ask_json_and_streamed_give_the_same_answer(home):
    with _client(llm="smollm2-135m") as client:
        res = client.post("/api/collections/planets/ask", json=QUESTION)
        assert res.status_code == 200, res.text
        answer = res.json()
        assert answer["passages"][0]["doc_id"] == "mars" and answer["settings"]["mode"] == "keyword"
        given = {p["number"] for p in answer["passages"]}
        assert all(c["passage"] in given for s in answer["sentences"] for c in s["citations"])
        with client.stream("POST", "/api/collections/planets/ask", json={**QUESTION, "stream": True}) as streamed:
            assert streamed.headers["content-type"].startswith("text/event-stream")
            events = _events(streamed.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"} and len(kinds) > 2
    final = events[-1][1]
    assert "".join(data["text"] for _, data in events[:-1]) == final["draft"]
    same = {k: v for k, v in final.items() if k != "timings"}
    assert same == {k: v for k, v in answer.items() if k != "timings"}


def test_a_question_the_context_cannot_hold_is_a_413_before_the_stream(home):
    """The schema limits a question in characters; the model's context counts tokens (SmolLM2 spells digits one
    token each): a question that leaves no room for passages is refused with the status line, streamed or not."""
    too_long = {"question": "0" * 3_999 + "?", "max_tokens": 160, "stream": True}
    with _client(llm="smollm2-135m") as client:
        res = client.post("/api/collections/planets/ask", json=too_long)
        assert res.status_code == 413 and "leave no room for passages" in res.json()["error"]
        assert "max_tokens" in res.json()["hint"]


def test_ask_refusals(home):
    with _client(llm=None) as client:
        res = client.post("/api/collections/planets/ask", json=QUESTION)
        assert res.status_code == 403 and "--llm" in res.json()["hint"]
    with _client(llm="qwen2.5-coder-1.5b") as client:  # in the catalog, never pulled into this home
        res = client.post("/api/collections/planets/ask", json=QUESTION)
        assert res.status_code == 503 and "textlens models pull qwen2.5-coder-1.5b" in res.json()["hint"]
    with _client(llm="smollm2-135m", max_waiting_asks=0) as client:
        assert client.post("/api/collections/planets/ask", json=QUESTION).status_code == 429
    with _client(llm="openai:http://127.0.0.1:9/v1", rerankers=()) as client:
        res = client.post("/api/collections/planets/ask", json=QUESTION)
        assert res.status_code == 503 and "cannot reach the LLM server" in res.json()["error"]
        streamed = client.post("/api/collections/planets/ask", json={**QUESTION, "stream": True})
        kind, data = _events(streamed.text)[-1]
        assert kind == "error" and data["status"] == 503
        assert client.post("/api/collections/planets/ask", json={**QUESTION, "rerank": "x"}).status_code == 403
        assert client.post("/api/collections/nowhere/ask", json=QUESTION).status_code == 404
        assert client.post("/api/collections/planets/ask", json={"question": ""}).status_code == 422


def test_ask_over_a_live_server_with_event_stream_accept_header(home):
    app = create_app(ServerSettings(llm="smollm2-135m"))
    with live_server(app) as url:
        assert httpx.get(url + "/healthz").json()["models"]["llm smollm2-135m"] == "ready"
        with httpx.stream(
            "POST",
            url + "/api/collections/planets/ask",
            json=QUESTION,
            headers={"Accept": "text/event-stream"},
            timeout=120,
        ) as res:
            seen = [line for line in res.iter_lines() if line.startswith("event: ")]
    assert seen[0] == "event: token" and seen[-1] == "event: answer"


def test_remote_ask_streams_and_gives_the_local_answer_type(home):
    from textlens.ask import Answer
    from textlens.remote import connect

    with live_server(create_app(ServerSettings(llm="smollm2-135m"))) as url, connect(url) as remote:
        planets = remote.collection("planets")
        pieces: list[str] = []
        streamed = planets.ask(QUESTION["question"], k=3, on_text=pieces.append)
        whole = planets.ask(QUESTION["question"], k=3)
    assert isinstance(streamed, Answer) and pieces and "".join(pieces) == streamed.draft
    assert streamed.passages[0].doc_id == "mars" and streamed.text == whole.text
    given = {p.number for p in streamed.passages}
    assert all(c.passage in given for s in streamed.sentences for c in s.citations)


def test_a_stream_dropped_mid_answer_frees_the_model_for_the_next_question(home):
    with live_server(create_app(ServerSettings(llm="smollm2-135m", max_waiting_asks=1))) as url:
        body = {**QUESTION, "stream": True, "max_tokens": 200}
        with httpx.stream("POST", url + "/api/collections/planets/ask", json=body, timeout=120) as res:
            first = next(line for line in res.iter_lines() if line.startswith("event: "))
        assert first == "event: token"  # the client hangs up after the first token
        deadline = time.time() + 120  # the abandoned answer finishes, then the one waiting place is free again
        while (
            again := httpx.post(url + "/api/collections/planets/ask", json=QUESTION, timeout=120)
        ).status_code == 429:
            assert time.time() < deadline
            time.sleep(0.5)
        assert again.status_code == 200 and again.json()["passages"][0]["doc_id"] == "mars"
        assert httpx.get(url + "/healthz").status_code == 200
