"""The :class:`Encoder` protocol every embedding backend implements."""

from __future__ import annotations

from collections.abc import Sequence
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
    """

    name: str
    dim: int
    fingerprint: str

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """Embed passages: an ``(n, dim)`` float32 array, rows of unit length."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (models with query prompts apply them here)."""
        ...
