"""The vector store: float32 segments on disk, searched exactly or through an ANN index.

Vectors live in ``vectors/{segment}.npy`` with their keys in ``{segment}.keys.npy``;
a segment counts once the document store lists it. In memory the segments are
concatenated (memory-mapped). Search modes:

- ``exact``: one matrix product (numpy); the reference.
- ``hnsw``: faiss HNSW graph (inner product), used by ``auto`` from
  ``HNSW_THRESHOLD`` vectors up; built on first search and saved beside the segments.
- ``int8`` / ``binary``: scalar-quantised (1 byte per dimension) or sign bits
  (1 bit per dimension) candidates, rescored exactly with the float32 vectors.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textlens.atomic import atomic_open
from textlens.errors import InputError

HNSW_THRESHOLD = 50_000
VECTOR_INDEXES = ("auto", "exact", "hnsw", "int8", "binary")
RESCORE = {"int8": 4, "binary": 10}


def _require_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError("ANN and quantised search need faiss: pip install 'textlens[search]'") from exc
    return faiss


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write an array atomically."""
    with atomic_open(path) as fh:
        np.save(fh, array)


def bytes_per_vector(kind: str, dim: int) -> int:
    """Memory of one vector in a search structure (excluding graph links)."""
    return {"exact": 4 * dim, "hnsw": 4 * dim, "int8": dim, "binary": (dim + 7) // 8}[kind]


class VectorStore:
    """Segments of (key, vector) and the search structures over them."""

    def __init__(self, path: Path, dim: int, *, kind: str = "auto") -> None:
        if kind not in VECTOR_INDEXES:
            raise InputError(f"unknown vector index {kind!r}", hint="Use " + ", ".join(VECTOR_INDEXES) + ".")
        self.path, self.dim, self.kind = path, dim, kind
        path.mkdir(parents=True, exist_ok=True)
        self.keys = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self._loaded: list[str] = []
        self._ann = None
        self._ann_kind = ""
        self.ef_search = 256  # HNSW search breadth: recall vs speed

    # -- writing -------------------------------------------------------------
    def write_segment(self, name: str, keys: Sequence[int], vectors: np.ndarray) -> None:
        """Write a segment's files; it counts only once the store commits its name."""
        if vectors.shape[1:] != (self.dim,):
            raise InputError(
                f"vectors have dimension {vectors.shape[1:]}, the collection {self.dim}",
                hint="Use the encoder the collection was built with.",
            )
        save_npy(self.path / f"{name}.keys.npy", np.asarray(keys, dtype=np.int64))
        save_npy(self.path / f"{name}.npy", np.ascontiguousarray(vectors, dtype=np.float32))

    def remove_unlisted(self, listed: Sequence[str]) -> list[str]:
        """Delete segment files the store does not list (left by an interrupted write)."""
        keep = set(listed)
        removed = []
        for f in self.path.glob("*.npy"):
            name = f.name.removesuffix(".keys.npy").removesuffix(".npy")
            if name not in keep:
                f.unlink()
                removed.append(f.name)
        for f in self.path.glob(".tmp-*"):
            f.unlink()
        return removed

    # -- loading -------------------------------------------------------------
    def load(self, segments: Sequence[str]) -> None:
        """Make the in-memory view match the committed segment list."""
        segments = list(segments)
        if segments == self._loaded:
            return
        if segments[: len(self._loaded)] != self._loaded or not self._loaded:
            self._ann = None
            parts = [
                (np.load(self.path / f"{s}.keys.npy"), np.load(self.path / f"{s}.npy", mmap_mode="r")) for s in segments
            ]
        else:  # only new segments appended: extend the view and the ANN index
            parts = [(self.keys, self.matrix)] + [
                (np.load(self.path / f"{s}.keys.npy"), np.load(self.path / f"{s}.npy", mmap_mode="r"))
                for s in segments[len(self._loaded) :]
            ]
        old = len(self.keys)
        self.keys = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        self.matrix = (
            np.concatenate([np.asarray(p[1]) for p in parts])
            if len(parts) > 1
            else (np.asarray(parts[0][1]) if parts else np.zeros((0, self.dim), np.float32))
        )
        if self._ann is not None and len(self.keys) > old:
            self._ann_add(self.matrix[old:])
        self._loaded = segments

    def merge(self, segments: Sequence[str], live: np.ndarray, name: str) -> int:
        """Write one segment holding the live vectors of ``segments``; returns its size."""
        self.load(segments)
        keep = np.isin(self.keys, live)
        self.write_segment(name, self.keys[keep], np.asarray(self.matrix[keep]))
        return int(keep.sum())

    # -- searching -----------------------------------------------------------
    def effective_kind(self) -> str:
        if self.kind == "auto":
            return "hnsw" if len(self.keys) >= HNSW_THRESHOLD else "exact"
        return self.kind

    def search(
        self, query: np.ndarray, k: int, *, mask: np.ndarray | None = None, rescore: int | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (key, cosine) pairs; ``mask`` (one bool per vector) restricts the candidates.

        Quantised indexes fetch ``rescore * k`` candidates (default 4 for int8, 10 for binary)
        and rescore them with the float32 vectors.
        """
        if len(self.keys) == 0 or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        kind = self.effective_kind()
        rescore = rescore or RESCORE.get(kind, 1)
        if kind == "exact" or (mask is not None and mask.sum() <= 4 * k * rescore):
            return self._exact(query, k, mask)
        rows = self._candidates(query, k * rescore if kind != "hnsw" else max(k * 2, 64), mask)
        scores = np.asarray(self.matrix[rows]) @ query  # exact scores of the candidates (rescoring)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.keys[rows[i]]), float(scores[i])) for i in order]

    def _exact(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        scores = self.matrix @ query
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((self.keys[top], -scores[top]))]
        return [(int(self.keys[i]), float(scores[i])) for i in top]

    def _candidates(self, query: np.ndarray, n: int, mask: np.ndarray | None) -> np.ndarray:
        faiss = _require_faiss()
        index = self._ann_index()
        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, n))
                if self._ann_kind == "hnsw"
                else faiss.SearchParameters(sel=selector)
            )
        elif self._ann_kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, n))
        n = min(n, len(self.keys))
        if self._ann_kind == "binary":
            packed = np.packbits(query > 0)[None, :]
            _, rows = index.search(packed, n, params=params)
        else:
            _, rows = index.search(query[None, :], n, params=params)
        rows = rows[0]
        return rows[rows >= 0]

    def _ann_file(self, kind: str) -> Path:
        return self.path / f"ann-{kind}-{'_'.join(self._loaded)[:80]}-{len(self.keys)}.faiss"

    def _ann_index(self):
        faiss = _require_faiss()
        kind = self.effective_kind()
        if self._ann is not None and self._ann_kind == kind:
            return self._ann
        saved = self._ann_file(kind)
        if saved.is_file():
            self._ann = (faiss.read_index_binary if kind == "binary" else faiss.read_index)(str(saved))
        else:
            if kind == "hnsw":
                self._ann = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
                self._ann.hnsw.efConstruction = 200
            elif kind == "int8":
                self._ann = faiss.IndexScalarQuantizer(
                    self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
                )
                self._ann.train(np.asarray(self.matrix))
            else:
                self._ann = faiss.IndexBinaryFlat(self.dim)
            self._ann_kind = kind
            self._ann_add(self.matrix)
            for old in self.path.glob(f"ann-{kind}-*.faiss"):
                old.unlink()
            tmp = saved.with_name(".tmp-" + saved.name)  # faiss writes by file name
            (faiss.write_index_binary if kind == "binary" else faiss.write_index)(self._ann, str(tmp))
            os.replace(tmp, saved)
        self._ann_kind = kind
        return self._ann

    def _ann_add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._ann_kind == "binary":
            self._ann.add(np.packbits(vectors > 0, axis=1))
        else:
            self._ann.add(vectors)

    def stats(self) -> dict[str, object]:
        kind = self.effective_kind()
        return {
            "vectors": len(self.keys),
            "dim": self.dim,
            "index": kind,
            "bytes_per_vector": bytes_per_vector(kind, self.dim),
        }
