"""Embeddings: the :class:`Encoder` protocol, backends and the embedding cache."""

from __future__ import annotations

from textlens.embed.base import Encoder
from textlens.embed.cache import EmbeddingCache, embed_with_cache

_LOADED: dict[str, Encoder] = {}


def get_encoder(model: str = "sentence-transformers/all-MiniLM-L6-v2") -> Encoder:
    """A sentence-transformers encoder by id, alias or folder, loaded once per process."""
    from textlens.embed.sentence_transformers import SentenceTransformerEncoder, resolve_model

    name = resolve_model(model)[0]
    if name not in _LOADED:
        _LOADED[name] = SentenceTransformerEncoder(model)
    return _LOADED[name]


__all__ = ["EmbeddingCache", "Encoder", "embed_with_cache", "get_encoder"]
