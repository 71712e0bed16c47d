"""The :class:`Encoder` protocol every embedding backend implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from textlens.progress import Progress


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors (cosine = dot product).

    Attributes:
        name: the model's canonical id, stored in a collection's manifest.
        dim: the vector size.
        fingerprint: changes when the weights change; keys the embedding cache.
        max_length: the most tokens of a text the model reads (the rest is cut).
    """

    name: str
    dim: int
    fingerprint: str
    max_length: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """Embed passages: an ``(n, dim)`` float32 array, rows of unit length."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (models with query prompts apply them here)."""
        ...


def encode_by_length(
    texts: Sequence[str],
    dim: int,
    run: Callable[[list[str]], np.ndarray],
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed in batches of similar length whose size follows a character budget.

    Texts are sorted by length once for the whole call; a batch then holds up to
    ``batch_size`` texts but no more than ``batch_size * 256`` characters, so long
    texts go in small batches (little padding, cache-friendly on a CPU) and short
    ones in full batches. ``run`` embeds one batch (unit rows); rows come back in
    the order of ``texts``.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), dim), dtype=np.float32)
    budget = batch_size * 256
    done, start = 0, 0
    while start < len(order):
        width = max(1, len(texts[order[start]]))
        size = int(min(batch_size, max(8, budget // width)))
        idx = order[start : start + size]
        out[idx] = run([texts[i] for i in idx])
        start += size
        done += len(idx)
        if progress and (done == len(texts) or done % 512 < size):
            progress("embedding", done, len(texts))
    return out
