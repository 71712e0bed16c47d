"""Concurrent queries embedded together give the vectors each would get alone (real all-MiniLM-L6-v2)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from textlens.embed.batching import QueryBatcher

QUERIES = [f"query number {i} about {topic}" for i, topic in enumerate(["cells", "stars", "rivers", "law"] * 12)]


def test_concurrent_queries_are_batched_and_match_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sentence_transformers")
    from textlens.embed import get_encoder

    monkeypatch.setenv("TEXTLENS_ENCODER_BACKEND", "torch")  # the backend that batches queries
    enc = get_encoder()
    alone = np.stack([enc._encode_queries([q])[0] for q in QUERIES])
    batcher = QueryBatcher(enc._encode_queries, max_batch=16)
    got: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(len(QUERIES))

    def ask(i: int) -> None:
        barrier.wait()
        got[i] = batcher.encode(QUERIES[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(QUERIES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == list(range(len(QUERIES)))
    np.testing.assert_allclose(np.stack([got[i] for i in range(len(QUERIES))]), alone, atol=1e-5)
    assert batcher.queries == len(QUERIES) and batcher.batches < len(QUERIES)  # some calls carried several


def test_an_error_reaches_every_caller_of_the_batch_and_the_next_batch_runs() -> None:
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        if "bad" in texts:
            raise RuntimeError("model failed")
        return np.ones((len(texts), 3), np.float32)

    batcher = QueryBatcher(encode)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.encode("bad")
    assert batcher.encode("good").tolist() == [1.0, 1.0, 1.0]
    assert calls == [["bad"], ["good"]]


def test_progress_has_one_signature_from_encoder_to_collection(tmp_path) -> None:
    pytest.importorskip("sentence_transformers")
    from textlens.corpus import Document
    from textlens.index import create_collection

    calls: list[tuple] = []
    with create_collection(tmp_path / "c") as col:
        col.add([Document(str(i), f"note number {i} on tides") for i in range(30)], progress=lambda *a: calls.append(a))
    assert calls and all(isinstance(s, str) and isinstance(d, int) and isinstance(t, int) for s, d, t in calls)
    assert calls[-1] == ("indexed", 30, 0) and ("embedded", 30, 0) in calls
