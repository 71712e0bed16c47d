"""The title boost: a title match adds ``title_boost`` times the title field's BM25 (real tantivy index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tantivy
from typer.testing import CliRunner

from textlens.corpus import Document
from textlens.errors import InputError
from textlens.index import CollectionBase, create_collection
from textlens.index.analysis import TITLE_BOOST
from textlens.index.local.keyword import KeywordIndex, _schema

DOCS = [
    Document("photo", "Plants turn light, water and carbon dioxide into sugar in chloroplasts.", "Photosynthesis"),
    Document("leaf1", "Green plants: photosynthesis in green plants needs light; green plants grow.", "Leaf"),
    Document("leaf2", "Photosynthesis in green plants and algae; green plants store sugar as starch.", "Starch"),
    Document("river", "A river carries water and sediment to the sea.", "River"),
]
QUERY = "photosynthesis in green plants"


@pytest.fixture
def col(tmp_path: Path):
    c = create_collection(tmp_path / "col", encoder=None)
    c.add(DOCS)
    yield c
    c.close()


def scores(col: CollectionBase, boost: float | None) -> dict[str, float]:
    return {h.doc_id: h.score for h in col.search(QUERY, mode="keyword", k=10, title_boost=boost).hits}


def test_a_title_match_adds_boost_times_the_title_score(col: CollectionBase) -> None:
    flat, quarter, half, two = (scores(col, b) for b in (0.0, 0.25, 0.5, 2.0))
    assert scores(col, None) == quarter and TITLE_BOOST == 0.25  # the default
    title_score = (half["photo"] - flat["photo"]) / 0.5
    assert title_score > 0
    for boosted, b in ((quarter, 0.25), (two, 2.0)):
        assert boosted["photo"] == pytest.approx(flat["photo"] + b * title_score, rel=1e-5)
        for doc in ("leaf1", "leaf2"):  # their titles do not hold a query term: unchanged
            assert boosted[doc] == pytest.approx(flat[doc], rel=1e-6)
    assert max(flat, key=flat.get) != "photo" and max(two, key=two.get) == "photo"


def test_bad_boosts_and_the_bm25_rescorer_are_refused(col: CollectionBase) -> None:
    with pytest.raises(InputError, match="title_boost must be between 0 and 100"):
        scores(col, -1.0)
    with pytest.raises(InputError, match="title boost and BM25 parameters cannot be combined"):
        col.search(QUERY, mode="keyword", bm25=(0.9, 0.4), title_boost=0.5)
    plain = col.search(QUERY, mode="keyword", bm25=(0.9, 0.4))  # the body's BM25 alone
    assert plain.hits[0].doc_id != "photo"


def test_an_index_from_before_titles_opens_and_searches_without_the_boost(tmp_path: Path) -> None:
    path = tmp_path / "keyword"
    path.mkdir()
    old = tantivy.Index(_schema(titles=False), path=str(path))
    old.register_tokenizer("textlens", KeywordIndex(tmp_path / "scratch").analyzer)
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    for key, doc in enumerate(DOCS):
        entry = tantivy.Document()
        entry.add_unsigned("key", key)
        entry.add_text("body", doc.titled_text)
        writer.add_document(entry)
    writer.commit()
    writer.wait_merging_threads()  # releases the index lock
    index = KeywordIndex(path)
    assert not index.has_titles
    flat = [(h.key, h.score) for h in index.search(QUERY, 10)]
    assert len(flat) == 3 and [(h.key, h.score) for h in index.search(QUERY, 10, title_boost=2.0)] == flat
    index.add([9], ["Photosynthesis again"], ["Photosynthesis"])  # written as the old schema allows
    index.commit()
    assert 9 in {h.key for h in index.search("photosynthesis", 10)}


def test_cli_and_info(col: CollectionBase, tmp_path: Path) -> None:
    from textlens.cli import app

    assert col.info()["keyword_titles"] is True
    col.close()
    out = CliRunner().invoke(
        app, ["search", QUERY, "-c", str(tmp_path / "col"), "-m", "keyword", "--title-boost", "2", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["hits"][0]["doc_id"] == "photo"
