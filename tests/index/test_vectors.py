"""Vector search: exact, HNSW, int8 and binary (with rescoring) against exact ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textlens.index.local.vectors import VectorStore, bytes_per_vector

pytest.importorskip("faiss")


def clustered(n: int, dim: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(50, dim))
    x = centers[rng.integers(0, 50, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    path = tmp_path_factory.mktemp("vec")
    both = clustered(20_100)  # queries from the same clusters as the data
    vectors, queries = both[:20_000], both[20_000:]
    store = VectorStore(path, 256, kind="exact")
    store.write_segment("seg-a", np.arange(10_000), vectors[:10_000])
    store.write_segment("seg-b", np.arange(10_000, 20_000), vectors[10_000:])
    return path, vectors, queries


def recall(store: VectorStore, exact: VectorStore, queries: np.ndarray, k: int = 10) -> float:
    got = [{key for key, _ in store.search(q, k)} for q in queries]
    want = [{key for key, _ in exact.search(q, k)} for q in queries]
    return float(np.mean([len(a & b) / k for a, b in zip(got, want, strict=True)]))


# binary keeps 1 bit per dimension: coarse on this synthetic data; the benchmark measures real embeddings
@pytest.mark.parametrize(("kind", "floor"), [("hnsw", 0.95), ("int8", 0.95), ("binary", 0.6)])
def test_ann_recall_against_exact(data, kind: str, floor: float) -> None:
    path, _, queries = data
    exact = VectorStore(path, 256, kind="exact")
    exact.load(["seg-a", "seg-b"])
    store = VectorStore(path, 256, kind=kind)
    store.load(["seg-a", "seg-b"])
    assert recall(store, exact, queries) >= floor
    assert list(path.glob(f"ann-{kind}-*.faiss"))  # saved for the next process
    again = VectorStore(path, 256, kind=kind)
    again.load(["seg-a", "seg-b"])
    assert again.search(queries[0], 5) == store.search(queries[0], 5)


def test_exact_matches_brute_force_and_masks(data) -> None:
    path, vectors, queries = data
    store = VectorStore(path, 256, kind="exact")
    store.load(["seg-a", "seg-b"])
    scores = vectors @ queries[0]
    want = list(np.argsort(-scores)[:5])
    assert [key for key, _ in store.search(queries[0], 5)] == want
    mask = np.zeros(len(vectors), dtype=bool)
    mask[::2] = True
    assert all(key % 2 == 0 for key, _ in store.search(queries[0], 20, mask=mask))


def test_auto_switches_to_hnsw_above_the_threshold(data, monkeypatch) -> None:
    import textlens.index.local.vectors as v

    path = data[0]
    store = VectorStore(path, 256, kind="auto")
    store.load(["seg-a"])
    assert store.effective_kind() == "exact"
    monkeypatch.setattr(v, "HNSW_THRESHOLD", 15_000)
    store.load(["seg-a", "seg-b"])  # appended segment: view extended
    assert store.effective_kind() == "hnsw" and len(store.keys) == 20_000


def test_bytes_per_vector() -> None:
    assert [bytes_per_vector(k, 384) for k in ("exact", "int8", "binary")] == [1536, 384, 48]
