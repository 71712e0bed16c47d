"""Embeddings: the :class:`Encoder` protocol, backends and the embedding cache."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

from textlens.config import DEFAULT_ENCODER
from textlens.embed.base import Encoder
from textlens.embed.cache import EmbeddingCache, embed_with_cache
from textlens.errors import AssetError, InputError
from textlens.loaded import Loaded
from textlens.models.ref import ModelRef, resolve

_LOADED: Loaded[Encoder] = Loaded(max_items=4)


BACKENDS = ("auto", "onnx", "torch")


def backend() -> str:
    """The encoder backend ``TEXTLENS_ENCODER_BACKEND`` asks for: ``auto`` (default), ``onnx`` or ``torch``."""
    value = os.environ.get("TEXTLENS_ENCODER_BACKEND", "auto").strip().lower() or "auto"
    if value not in BACKENDS:
        raise InputError(
            f"TEXTLENS_ENCODER_BACKEND={value!r} is not a backend", hint=f"Use one of {', '.join(BACKENDS)}."
        )
    return value


def get_encoder(model: str | ModelRef = DEFAULT_ENCODER) -> Encoder:
    """An encoder by id, alias, folder or resolved :class:`~textlens.models.ref.ModelRef`, loaded once per process.

    ``auto`` runs the model in ONNX Runtime when onnxruntime and onnx are installed and the model is a
    local Transformer → Pooling (→ Normalize) folder (exported on first use, same vectors),
    and in sentence-transformers (torch) otherwise; ``onnx`` and ``torch`` insist. A ``:int8``
    suffix (``all-MiniLM-L6-v2:int8``) runs int8 weights, in ONNX Runtime only. GGUF models
    (``nomic-embed-text-v1.5``, a ``.gguf`` path) run in llama.cpp. An image–text model (CLIP, SigLIP, or a
    folder written by ``textlens train image-text``) also embeds pictures: see :mod:`textlens.embed.images`.
    """
    ref = resolve(model)
    if ref.kind in ("gguf-encoder", "gguf"):
        from textlens.embed.gguf import GGUFEncoder

        return _LOADED.get(f"gguf:{ref.text}", lambda: GGUFEncoder(ref))
    if ref.kind != "encoder":
        raise InputError(
            f"{ref.text!r} is a language model ({ref.kind}), not an embedding model",
            hint="Name an encoder: all-MiniLM-L6-v2, all-mpnet-base-v2, nomic-embed-text-v1.5, a folder or a Hub id.",
        )
    from textlens.embed.images import is_image_tower_folder

    if ref.path is not None and is_image_tower_folder(ref.path):
        from textlens.embed.images import ImageTowerEncoder

        return _LOADED.get(f"image-tower:{ref.name}", lambda: ImageTowerEncoder(ref.path))
    from textlens.embed.sentence_transformers import SentenceTransformerEncoder

    choice = backend()
    if ref.int8:
        if choice == "torch":
            raise InputError(
                f"{ref.text!r}: int8 weights run in ONNX Runtime only, and TEXTLENS_ENCODER_BACKEND is torch",
                hint="Unset TEXTLENS_ENCODER_BACKEND (or set it to onnx), or drop the :int8 suffix.",
            )
        choice = "onnx"
    if choice == "auto":
        choice = _auto_backend(ref.target)
    if choice == "onnx":
        from textlens.embed.onnx import OnnxEncoder

        return _LOADED.get(f"onnx:{ref.name}", lambda: OnnxEncoder(ref))
    return _LOADED.get(f"torch:{ref.name}", lambda: SentenceTransformerEncoder(ref))


@functools.lru_cache(maxsize=64)
def _auto_backend(target: str) -> str:
    """``onnx`` when onnxruntime and onnx are installed and ``target`` is a local folder whose pipeline
    the ONNX backend runs, else ``torch`` (decided once per folder and process)."""
    from textlens.embed.onnx import Pipeline

    folder = Path(target)
    if not all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx")) or not folder.is_dir():
        return "torch"
    try:
        Pipeline(folder)
    except AssetError:
        return "torch"
    return "onnx"


__all__ = ["BACKENDS", "EmbeddingCache", "Encoder", "backend", "embed_with_cache", "get_encoder"]
