"""BM25 with chosen k1 and b (exact re-scoring over tantivy's candidates), against BM25 computed by hand."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from textlens.corpus import Document
from textlens.errors import InputError
from textlens.index import CollectionBase, create_collection

DOCS = [
    Document("a", "solar panels turn sunlight into electricity"),
    Document("b", "solar solar solar power is solar electricity from the sun, said the long report on energy"),
    Document("c", "wind turbines make electricity"),
    Document("d", "coal burns"),
    Document("e", "sunlight sunlight"),
]


def by_hand(col: CollectionBase, query: str, k1: float, b: float) -> list[tuple[str, float]]:
    terms = {d.id: col.keyword.terms(d.text) for d in DOCS}
    avg = sum(len(t) for t in terms.values()) / len(terms)
    out = []
    for doc_id, doc_terms in terms.items():
        counts, score = Counter(doc_terms), 0.0
        for q in col.keyword.terms(query):
            df = sum(1 for t in terms.values() if q in t)
            tf = counts[q]
            if tf:
                idf = math.log(1 + (len(DOCS) - df + 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc_terms) / avg))
        if score:
            out.append((doc_id, score))
    return sorted(out, key=lambda x: (-x[1], x[0]))


@pytest.mark.parametrize(("k1", "b"), [(0.9, 0.4), (2.0, 1.0), (1.5, 0.0), (0.0, 0.5)])
def test_rescored_bm25_equals_the_formula(tmp_path, monkeypatch, k1: float, b: float) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with create_collection("bm", encoder=None) as col:
        col.add(DOCS)
        for query in ("solar electricity", "sunlight", "electricity from wind"):
            hits = col.search(query, mode="keyword", k=5, bm25=(k1, b)).hits
            expected = by_hand(col, query, k1, b)
            assert [h.doc_id for h in hits] == [d for d, _ in expected]
            assert [h.score for h in hits] == pytest.approx([s for _, s in expected])


def test_length_normalisation_moves_documents_and_defaults_stay_tantivy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with create_collection("bm", encoder=None) as col:
        col.add(DOCS)
        no_norm = [h.doc_id for h in col.search("solar", mode="keyword", bm25=(1.2, 0.0)).hits]
        assert no_norm[0] == "b"  # four occurrences win when length does not count
        default = col.search("solar", mode="keyword").hits
        same = col.search("solar", mode="keyword", bm25=(1.2, 0.75)).hits
        assert [(h.doc_id, h.score) for h in default] == [(h.doc_id, h.score) for h in same]
        col.add([Document("f", "solar")])  # a new generation: lengths and counts are recomputed
        assert "f" in [h.doc_id for h in col.search("solar", mode="keyword", bm25=(1.2, 0.0)).hits]
        with pytest.raises(InputError, match="bm25 must be between 0 and 1, got 3"):  # b's range, named
            col.search("solar", mode="keyword", bm25=(1.2, 3.0))


@pytest.mark.parametrize(("k1", "b"), [(0.9, 0.4), (1.5, 0.9)])
def test_rescored_bm25_matches_bm25s_on_the_same_terms(tmp_path, monkeypatch, k1: float, b: float) -> None:
    """A reference implementation nobody here wrote: bm25s (method "lucene", same idf; its term weight
    lacks Robertson's constant factor k1 + 1), over 800 SciFact abstracts analysed by textlens's analyser."""
    bm25s = pytest.importorskip("bm25s")
    import json

    from tests.shared import shared

    rows = [json.loads(line) for line in shared("data/beir/scifact/corpus.jsonl").open()][:800]
    docs = [Document(r["_id"], r["text"], r["title"]) for r in rows]
    queries = [json.loads(line)["text"] for line in shared("data/beir/scifact/queries.jsonl").open()][:40]
    monkeypatch.setenv("TEXTLENS_HOME", str(tmp_path))
    with create_collection("bm", encoder=None) as col:
        col.add(docs)
        reference = bm25s.BM25(k1=k1, b=b, method="lucene")
        reference.index([col.keyword.terms(d.titled_text) for d in docs], show_progress=False)
        compared = 0
        for query in queries:
            hits = col.search(query, mode="keyword", k=20, bm25=(k1, b), highlight=False).hits
            scores = reference.get_scores(col.keyword.terms(query)) * (k1 + 1)
            for hit in hits:
                assert hit.score == pytest.approx(scores[[d.id for d in docs].index(hit.doc_id)], rel=1e-5)
            expected = sorted(range(len(docs)), key=lambda i: (-scores[i], docs[i].id))[: len(hits)]
            assert [h.doc_id for h in hits] == [docs[i].id for i in expected]
            compared += len(hits)
        assert compared > 500
