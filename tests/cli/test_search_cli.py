"""``textlens index``, ``search``, ``collections`` and ``demo`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textlens.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    rows = [
        {"id": "a", "text": "Solar panels convert sunlight into electricity.", "title": "Solar", "year": 2001},
        {"id": "b", "text": "Wind turbines spin in strong wind.", "title": "Wind", "year": 2010},
        {"id": "c", "text": "Hydroelectric dams store water.", "title": "Hydro", "year": 1990},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    return path


def test_index_search_and_collections(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    bad = invoke("index", str(corpus), "-c", "energy", "--no-encoder")
    assert bad.exit_code == 2 and "docs.jsonl:4" in bad.stderr and "--on-error skip" in bad.stderr
    ok = invoke("index", str(corpus), "-c", "energy", "--no-encoder", "--on-error", "skip", "--json")
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert (report["added"], report["skipped_rows"], report["documents"]) == (3, 1, 3)
    res = invoke("search", "wind power", "-c", "energy", "-m", "keyword", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [h["doc_id"] for h in data["hits"]] == ["b"] and data["hits"][0]["matched_terms"] == ["wind"]
    filtered = json.loads(
        invoke("search", "dams OR wind", "-c", "energy", "-m", "keyword", "-f", "year<2000", "--json").stdout
    )
    assert [h["doc_id"] for h in filtered["hits"]] == ["c"]
    table = invoke("search", "sunlight", "-c", "energy", "-m", "keyword")
    assert table.exit_code == 0 and "Solar" in table.stdout
    dense = invoke("search", "sunlight", "-c", "energy", "-m", "dense")
    assert dense.exit_code == 2 and "no vectors" in dense.stderr
    listed = json.loads(invoke("collections", "list", "--json").stdout)
    assert [(c["name"], c["documents"]) for c in listed] == [("energy", 3)]
    info = json.loads(invoke("collections", "info", "energy", "--json").stdout)
    assert info["fields"] == ["year"] and info["encoder"] is None
    assert invoke("collections", "delete", "energy", "--yes").exit_code == 0
    assert invoke("collections", "info", "energy").exit_code == 2


def test_upsert_and_chunking_flags(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    args = ["index", str(corpus), "-c", "e", "--no-encoder", "--on-error", "skip", "--chunk", "sentence", "--json"]
    first = json.loads(invoke(*args).stdout)
    assert first["added"] == 3
    again = invoke(*args)
    assert again.exit_code == 2 and "--upsert" in again.stderr
    replaced = json.loads(invoke(*args, "--upsert").stdout)
    assert replaced["replaced"] == 3 and replaced["documents"] == 3
    hit = json.loads(invoke("search", "turbines", "-c", "e", "-m", "keyword", "--json").stdout)["hits"][0]
    assert hit["doc_id"] == "b#0" and hit["parent"] == "b"
    extra = corpus.with_name("extra.jsonl")
    extra.write_text('{"id": "z", "text": "More text."}\n')
    more = invoke("index", str(extra), "-c", "e", "--json")  # an existing collection keeps its own (no) encoder
    assert more.exit_code == 0 and json.loads(more.stdout)["added"] == 1
    other = invoke("index", str(extra), "-c", "e", "--encoder", "some/other-model", "--upsert")
    assert other.exit_code == 2 and "no vectors" in other.stderr


def test_bad_search_options(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    assert "no collection" in invoke("search", "x", "-c", "missing").stderr
    bad_name = invoke("index", str(tmp_path), "-c", "bad name")
    assert bad_name.exit_code == 2 and "invalid collection name" in bad_name.stderr


@pytest.mark.slow
def test_demo_on_the_first_articles(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("sentence_transformers")
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    result = invoke("demo", "--limit", "200", "-k", "2", "--llm", "smollm2-135m")
    assert result.exit_code == 0, result.output
    assert "indexed 200 articles" in result.stdout
    for mode in ("keyword", "dense", "hybrid"):
        assert mode in result.stdout
    from textlens.cli.demo import QUESTIONS

    assert all(f"Q: {q}" in result.stdout for q in QUESTIONS) and "Grounded answers" in result.stdout
    assert result.stdout.count("Sources:") + result.stdout.count("Not in the sources") == len(QUESTIONS)
