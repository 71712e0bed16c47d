"""Evaluation: qrels formats, BEIR conventions, bad input, metrics, reports and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.shared import shared
from textlens.cli import app
from textlens.errors import InputError
from textlens.evaluate import ModeSpec, evaluate_beir, evaluate_collection, load_qrels, load_queries
from textlens.evaluate.data import reconcile
from textlens.evaluate.metrics import evaluate_run, rank_scores
from textlens.evaluate.report import html_report, markdown, save_trec_runs

pytest.importorskip("ranx")

CORPUS = [
    ("d1", "Solar power", "Photovoltaic panels turn sunlight into electricity."),
    ("d2", "Wind power", "Turbines turn the energy of wind into electricity."),
    ("d3", "Hydropower", "Dams use falling water to make electricity."),
    ("d4", "Coal", "Burning coal releases carbon dioxide."),
    ("q2", "Tides", "A document whose id equals a query id: never a hit for that query."),
]
QUERIES = {"q1": "sunlight electricity panels", "q2": "tides and wind turbines", "q3": "carbon from coal"}


def beir(tmp_path: Path, qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\nq3\td4\t1\n") -> Path:
    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in CORPUS) + "\n"
    )
    (root / "queries.jsonl").write_text("\n".join(json.dumps({"_id": q, "text": t}) for q, t in QUERIES.items()))
    (root / "qrels/test.tsv").write_text(qrels)
    return root


def test_keyword_eval_on_a_beir_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    result = evaluate_beir(beir(tmp_path), [ModeSpec("keyword")])
    scores = result.results["keyword"]
    assert set(scores) == {"ndcg@10", "mrr@10", "map@100", "recall@100", "precision@10"}
    assert scores["mrr@10"] == 1.0 and scores["ndcg@10"] == 1.0
    assert all("q2" not in run.get("q2", {}) for run in result.runs.values())  # own id never a hit
    again = evaluate_beir(beir(tmp_path), [ModeSpec("keyword")])  # reuses the collection
    assert again.seconds["index"] == 0.0 and again.results == result.results


def test_dense_hybrid_and_significance(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("sentence_transformers")
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    specs = [
        ModeSpec("keyword"),
        ModeSpec("dense"),
        ModeSpec("hybrid"),
        ModeSpec("hybrid", fusion="convex", weights=(0.3, 0.7)),
    ]
    result = evaluate_beir(beir(tmp_path), specs)
    assert list(result.results) == ["keyword", "dense", "hybrid", "hybrid[convex 0.3/0.7]"]
    assert result.results["dense"]["recall@100"] == 1.0
    assert set(result.significance["keyword"]) == {"dense", "hybrid", "hybrid[convex 0.3/0.7]"}
    assert result.to_dict()["results"] == result.results


def test_qrels_formats_and_graded_relevance(tmp_path: Path) -> None:
    trec = tmp_path / "q.trec"
    trec.write_text("1 0 d1 2\n1 0 d2 0\n2 0 d3 1\n")
    tsv = tmp_path / "q.tsv"
    tsv.write_text("1\td1\t2\n1\td2\t0\n2\td3\t1\n")
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text(
        '{"query_id": 1, "doc_id": "d1", "relevance": 2}\n{"query_id": 1, "doc_id": "d2", '
        '"relevance": 0}\n{"query_id": "2", "doc_id": "d3", "relevance": 1}\n'
    )
    expected = {"1": {"d1": 2, "d2": 0}, "2": {"d3": 1}}
    assert load_qrels(trec) == load_qrels(tsv) == load_qrels(jsonl) == expected  # int and str ids agree
    empty = tmp_path / "empty.tsv"
    empty.write_text("query-id\tcorpus-id\tscore\n")
    with pytest.raises(InputError, match="empty qrels"):
        load_qrels(empty)
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\td1\n")
    with pytest.raises(InputError, match=r"bad\.tsv:1"):
        load_qrels(bad)


def test_unknown_documents_and_queries_are_counted(tmp_path: Path) -> None:
    data = reconcile(
        {"a": "x", "b": "y"}, {"a": {"d1": 1, "ghost": 1}, "b": {"ghost2": 1}, "zz": {"d1": 1}}, {"d1", "d2"}
    )
    assert data.qrels == {"a": {"d1": 1}}
    assert data.problems == {
        "judged documents not in the corpus": 2,
        "queries with no relevant document left": 1,
        "judged queries not in the queries file": 1,
    }
    with pytest.raises(InputError, match="no query is left"):
        reconcile({"a": "x"}, {"a": {"ghost": 1}}, {"d1"})


def test_missing_beir_files(tmp_path: Path) -> None:
    root = beir(tmp_path)
    with pytest.raises(InputError, match=r"qrels/dev\.tsv is missing") as err:
        evaluate_beir(root, [ModeSpec("keyword")], split="dev")
    assert "Splits found: test" in err.value.hint
    (root / "queries.jsonl").unlink()
    with pytest.raises(InputError, match=r"queries\.jsonl is missing"):
        evaluate_beir(root, [ModeSpec("keyword")])


def test_metrics_by_hand_and_ties() -> None:
    qrels = {"q": {"a": 1, "b": 1}}
    run = {"q": rank_scores(["x", "a", "y", "b"])}
    means, _ = evaluate_run(qrels, run)
    assert means["mrr@10"] == 0.5 and means["precision@10"] == 0.2 and means["recall@100"] == 1.0
    ideal = 1 + 1 / 1.5849625  # log2(3)
    assert means["ndcg@10"] == pytest.approx((1 / 1.5849625 + 1 / 2.3219281) / ideal, abs=1e-4)
    assert list(rank_scores(["b", "a", "c"])) == ["b", "a", "c"]  # the given order survives equal raw scores


def test_reports_and_trec_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    result = evaluate_beir(beir(tmp_path), [ModeSpec("keyword")])
    md = markdown(result)
    assert "| keyword |" in md and "ndcg@10" in md
    page = html_report(result)
    assert page.startswith("<!doctype html>") and "<svg" in page and "Per query" in page and "http" not in page
    (path,) = save_trec_runs(result, tmp_path / "runs")
    first = path.read_text().splitlines()[0].split()
    assert first[1] == "Q0" and first[3] == "1" and first[5] == "textlens-keyword"


def test_own_collection_with_own_qrels(tmp_path: Path, monkeypatch) -> None:
    from textlens.corpus import Document
    from textlens.index import create_collection

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    with create_collection("mine", encoder=None) as col:
        col.add([Document(i, f"{t}. {x}") for i, t, x in CORPUS])
    qrels = tmp_path / "qrels.trec"
    qrels.write_text("q1 0 d1 1\nq3 0 d4 2\nq3 0 missing 1\n")
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tsunlight panels\nq3\tcoal carbon\n")
    result = evaluate_collection("mine", qrels, queries, [ModeSpec("keyword")])
    assert result.results["keyword"]["mrr@10"] == 1.0
    assert result.problems == {"judged documents not in the corpus": 1}


def test_cli_eval_json_and_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    root = beir(tmp_path)
    out = CliRunner().invoke(
        app,
        [
            "eval",
            str(root),
            "-m",
            "keyword",
            "--json",
            "--html",
            str(tmp_path / "r.html"),
            "--markdown",
            str(tmp_path / "r.md"),
            "--runs",
            str(tmp_path / "runs"),
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["dataset"] == "mini" and data["split"] == "test" and "ndcg@10" in data["results"]["keyword"]
    assert (tmp_path / "r.html").is_file() and (tmp_path / "r.md").is_file() and list((tmp_path / "runs").iterdir())
    none = CliRunner().invoke(app, ["eval"])
    assert none.exit_code == 2 and "nothing to evaluate" in none.stderr


@pytest.mark.slow
def test_scifact_keyword_reaches_the_published_bm25(tmp_path: Path, monkeypatch) -> None:
    scifact = shared("data/beir/scifact")
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    result = evaluate_beir(scifact, [ModeSpec("keyword")])
    assert result.queries == 300 and result.problems == {}
    assert result.results["keyword"]["ndcg@10"] >= 0.665
    assert load_queries(scifact / "queries.jsonl")["1"].startswith("0-dimensional")


def test_reranked_mode_runs_the_cross_encoder(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("sentence_transformers")
    from tests.search.test_dense_hybrid_rerank import _tiny_cross_encoder

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    model = _tiny_cross_encoder(tmp_path / "ce")
    result = evaluate_beir(beir(tmp_path), [ModeSpec("hybrid"), ModeSpec("hybrid", rerank=str(model))])
    assert list(result.results) == ["hybrid", "hybrid+rerank"]
    assert result.results["hybrid+rerank"]["recall@100"] == result.results["hybrid"]["recall@100"]


def test_sweep_tunes_on_dev_and_reports_on_test(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("sentence_transformers")
    from textlens.evaluate import sweep
    from textlens.evaluate.sweep import BM25_GRID, CHUNK_GRID, FUSION_GRID

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    root = beir(tmp_path)
    (root / "qrels/train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq3\td4\t1\n")
    found = sweep(root, knobs=["bm25", "fusion", "chunking"], dev_split="train", test_split="test")
    assert len(found.dev["bm25"]) == len(BM25_GRID) and found.best["bm25"] in found.dev["bm25"]
    assert next(iter(found.dev["bm25"])) == "k1=1.2 b=0.75"  # the default first: ties keep it
    assert len(found.dev["fusion"]) == len(FUSION_GRID) and found.best["fusion"] in found.dev["fusion"]
    assert list(found.dev["chunking"]) == list(CHUNK_GRID)
    assert set(found.test) == {"keyword (default)", "hybrid (default)", "keyword (tuned BM25)", "hybrid (tuned)"}
    # the untuned keyword run on test is exactly what a plain evaluation of that split gives
    plain = evaluate_beir(root, [ModeSpec("keyword")]).results["keyword"]["ndcg@10"]
    assert found.test["keyword (default)"]["ndcg@10"] == pytest.approx(plain)
    assert found.to_dict()["dev_split"] == "train"
    with pytest.raises(InputError, match="never on the one you report"):
        sweep(root, dev_split="test", test_split="test")
    with pytest.raises(InputError, match="unknown knob"):
        sweep(root, knobs=["k1"], dev_split="train")
    res = CliRunner().invoke(app, ["eval", str(root), "--sweep", "--dev-split", "train", "--knobs", "bm25", "--json"])
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)["best"]) == {"bm25"}


def test_eval_never_replaces_a_users_collection(tmp_path: Path, monkeypatch) -> None:
    from textlens.corpus import Document
    from textlens.index import CollectionConflict, create_collection, open_collection

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    with create_collection("mine", encoder=None) as col:
        col.add([Document("n1", "my notes"), Document("n2", "more notes"), Document("n3", "last notes")])
    with pytest.raises(CollectionConflict, match="not in"):
        evaluate_beir(beir(tmp_path), [ModeSpec("keyword")], collection="mine")
    with open_collection("mine") as col:
        assert sorted(col.document_ids()) == ["n1", "n2", "n3"]
    res = CliRunner().invoke(app, ["eval", str(beir(tmp_path)), "--mode", "keyword", "-c", "mine"])
    assert res.exit_code == 2 and "another collection" in res.output


def test_eval_completes_an_interrupted_build(tmp_path: Path, monkeypatch) -> None:
    from textlens.corpus import Document
    from textlens.index import create_collection, open_collection

    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path / "home"))
    with create_collection("beir-mini", encoder=None) as col:  # as if a build died after two documents
        col.add([Document(i, x, t) for i, t, x in CORPUS[:2]])
    result = evaluate_beir(beir(tmp_path), [ModeSpec("keyword")])
    assert result.results["keyword"]["ndcg@10"] == 1.0
    with open_collection("beir-mini") as col:
        assert sorted(col.document_ids()) == sorted(i for i, _, _ in CORPUS)
