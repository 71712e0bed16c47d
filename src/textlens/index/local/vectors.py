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

import contextlib
import functools
import os
import threading
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


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    """Run a small matrix product on one BLAS thread. OpenBLAS's idle threads keep spinning for a
    while after each call, and on a small CPU they then slow down the encoder's next query (measured:
    dense search 17 queries/s with 2 BLAS threads, 33 with 1, on SciFact with 2 cores)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write an array atomically."""
    with atomic_open(path) as fh:
        np.save(fh, array)


def bytes_per_vector(kind: str, dim: int) -> int:
    """Memory of one vector in a search structure (excluding graph links)."""
    return {"exact": 4 * dim, "hnsw": 4 * dim, "int8": dim, "binary": (dim + 7) // 8}[kind]


class VectorView:
    """The committed vectors at one moment: keys, matrix and the ANN index over them.

    A view never changes after it is made; :meth:`VectorStore.load` swaps in a new one,
    so a search that took a view sees one consistent state while writes go on.
    """

    def __init__(self, store: VectorStore, segments: list[str], keys: np.ndarray, matrix: np.ndarray) -> None:
        self.store, self.segments, self.keys, self.matrix = store, segments, keys, matrix

    def __len__(self) -> int:
        return len(self.keys)

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
        kind = self.store.effective_kind(len(self.keys))
        rescore = rescore or RESCORE.get(kind, 1)
        if kind == "exact" or (mask is not None and mask.sum() <= 4 * k * rescore):
            return self._exact(query, k, mask)
        rows = self.store.candidates(self, query, k * rescore if kind != "hnsw" else max(k * 2, 64), mask)
        scores = np.asarray(self.matrix[rows]) @ query  # exact scores of the candidates (rescoring)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.keys[rows[i]]), float(scores[i])) for i in order]

    def _exact(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        with _one_blas_thread() if len(self.keys) < HNSW_THRESHOLD else contextlib.nullcontext():
            scores = self.matrix @ query
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((self.keys[top], -scores[top]))]
        return [(int(self.keys[i]), float(scores[i])) for i in top]


class VectorStore:
    """Segments of (key, vector) and the search structures over them.

    ``view`` is the current :class:`VectorView`; it is replaced whole, never changed in place.
    The ANN index grows when segments are appended; it is searched and extended under one lock,
    and a view ignores rows beyond its own length.
    """

    def __init__(self, path: Path, dim: int, *, kind: str = "auto") -> None:
        if kind not in VECTOR_INDEXES:
            raise InputError(f"unknown vector index {kind!r}", hint="Use " + ", ".join(VECTOR_INDEXES) + ".")
        self.path, self.dim, self.kind = path, dim, kind
        path.mkdir(parents=True, exist_ok=True)
        self.view = VectorView(self, [], np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))
        self._ann = None
        self._ann_kind = ""
        self._ann_rows = 0  # how many rows of the current segments the ANN index holds
        self._ann_segments: list[str] = []
        self._ann_lock = threading.Lock()
        self.ef_search = 256  # HNSW search breadth: recall vs speed

    @property
    def keys(self) -> np.ndarray:
        return self.view.keys

    @property
    def matrix(self) -> np.ndarray:
        return self.view.matrix

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
    def _read(self, segment: str) -> tuple[np.ndarray, np.ndarray]:
        return np.load(self.path / f"{segment}.keys.npy"), np.load(self.path / f"{segment}.npy", mmap_mode="r")

    def load(self, segments: Sequence[str]) -> VectorView:
        """Make (and return) the view of the committed segment list."""
        segments = list(segments)
        old = self.view
        if segments == old.segments:
            return old
        appended = bool(old.segments) and segments[: len(old.segments)] == old.segments
        if appended:  # only new segments: extend the arrays
            parts = [(old.keys, old.matrix)] + [self._read(s) for s in segments[len(old.segments) :]]
        else:
            parts = [self._read(s) for s in segments]
        keys = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        if len(parts) > 1:
            matrix = np.concatenate([np.asarray(p[1]) for p in parts])
        else:
            matrix = np.asarray(parts[0][1]) if parts else np.zeros((0, self.dim), np.float32)
        view = VectorView(self, segments, keys, matrix)
        with self._ann_lock:
            if self._ann is not None and not (appended and self._ann_segments == old.segments):
                self._ann, self._ann_rows, self._ann_segments = None, 0, []
        self.view = view
        return view

    def merge(self, segments: Sequence[str], live: np.ndarray, name: str) -> int:
        """Write one segment holding the live vectors of ``segments``; returns its size."""
        view = self.load(segments)
        keep = np.isin(view.keys, live)
        self.write_segment(name, view.keys[keep], np.asarray(view.matrix[keep]))
        return int(keep.sum())

    # -- searching -----------------------------------------------------------
    def effective_kind(self, n: int | None = None) -> str:
        if self.kind == "auto":
            return "hnsw" if (len(self.keys) if n is None else n) >= HNSW_THRESHOLD else "exact"
        return self.kind

    def search(self, query: np.ndarray, k: int, **options) -> list[tuple[int, float]]:
        """Search the current view (see :meth:`VectorView.search`)."""
        return self.view.search(query, k, **options)

    def candidates(self, view: VectorView, query: np.ndarray, n: int, mask: np.ndarray | None) -> np.ndarray:
        """Rows of ``view`` the ANN index proposes for ``query`` (at most ``n``)."""
        faiss = _require_faiss()
        kind = self.effective_kind(len(view))
        with self._ann_lock:
            index = self._ann_index(view, kind)
            params = None
            if mask is not None:
                selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
                params = (
                    faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, n))
                    if kind == "hnsw"
                    else faiss.SearchParameters(sel=selector)
                )
            elif kind == "hnsw":
                params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, n))
            n = min(n, len(view))
            if kind == "binary":
                _, rows = index.search(np.packbits(query > 0)[None, :], n, params=params)
            else:
                _, rows = index.search(query[None, :], n, params=params)
        rows = rows[0]
        return rows[(rows >= 0) & (rows < len(view))]

    def _ann_file(self, kind: str, view: VectorView) -> Path:
        return self.path / f"ann-{kind}-{'_'.join(view.segments)[:80]}-{len(view)}.faiss"

    def _ann_index(self, view: VectorView, kind: str):
        """The ANN index covering ``view`` (called under ``_ann_lock``): extended, read or built."""
        faiss = _require_faiss()
        if self._ann is not None and self._ann_kind == kind:
            if self._ann_rows < len(view) and view.segments[: len(self._ann_segments)] == self._ann_segments:
                self._ann_add(view.matrix[self._ann_rows :])
                self._ann_rows, self._ann_segments = len(view), view.segments
            if self._ann_rows >= len(view):
                return self._ann
        saved = self._ann_file(kind, view)
        self._ann_kind = kind
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
                self._ann.train(np.asarray(view.matrix))
            else:
                self._ann = faiss.IndexBinaryFlat(self.dim)
            self._ann_add(view.matrix)
            for old in self.path.glob(f"ann-{kind}-*.faiss"):
                old.unlink()
            tmp = saved.with_name(".tmp-" + saved.name)  # faiss writes by file name
            (faiss.write_index_binary if kind == "binary" else faiss.write_index)(self._ann, str(tmp))
            os.replace(tmp, saved)
        self._ann_rows, self._ann_segments = len(view), view.segments
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
