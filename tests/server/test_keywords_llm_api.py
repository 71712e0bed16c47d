"""POST /api/keywords with the server's LLM (the real SmolLM2): grounded keywords, and the refusals."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("xllamacpp")

from fastapi.testclient import TestClient

from textlens.server import ServerSettings, create_app

TEXT = "A volcano erupts: lava and volcanic ash bury the town. The volcano sleeps again for a century."


def _client(**settings) -> TestClient:
    return TestClient(create_app(ServerSettings(preload=False, **settings)), base_url="http://127.0.0.1")


def test_llm_keywords_over_http_are_found_in_the_text(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with _client(llm="smollm2-135m") as client:
        for mode in ("write", "choose"):
            res = client.post(
                "/api/keywords", json={"texts": [TEXT], "llm": True, "llm_mode": mode, "k": 3, "ngram_range": [1, 2]}
            )
            assert res.status_code == 200, res.text
            [result] = res.json()
            assert len(result["keywords"]) <= 3 and (result["keywords"] or result["note"])
            for kw in result["keywords"]:
                assert kw["grounded"] and all(TEXT[a:b].lower() == kw["keyword"].lower() for a, b in kw["spans"])
        res = client.post("/api/keywords", json={"texts": [TEXT], "llm": True, "llm_mode": "choose", "max_sum": True})
        assert res.status_code == 400 and "embedding method" in res.json()["error"]
        res = client.post("/api/keywords", json={"texts": [TEXT], "llm": True, "llm_mode": "guess"})
        assert res.status_code == 422
    with _client(llm=None) as client:
        res = client.post("/api/keywords", json={"texts": [TEXT], "llm": True})
        assert res.status_code == 403 and "--llm" in res.json()["hint"]
