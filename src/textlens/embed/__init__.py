"""Embeddings: the :class:`Encoder` protocol, backends and the embedding cache."""

from __future__ import annotations

from textlens.config import DEFAULT_ENCODER
from textlens.embed.base import Encoder
from textlens.embed.cache import EmbeddingCache, embed_with_cache
from textlens.loaded import Loaded

_LOADED: Loaded[Encoder] = Loaded(max_items=4)


def get_encoder(model: str = DEFAULT_ENCODER) -> Encoder:
    """A sentence-transformers encoder by id, alias or folder, loaded once per process."""
    from textlens.embed.sentence_transformers import SentenceTransformerEncoder, resolve_model

    name = resolve_model(model)[0]
    return _LOADED.get(name, lambda: SentenceTransformerEncoder(model))


__all__ = ["EmbeddingCache", "Encoder", "embed_with_cache", "get_encoder"]
