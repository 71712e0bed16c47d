"""Which model, and what it is: architecture facts read from the model's own files, and the
weights loaded into torch for looking inside.

A model is named as elsewhere in textlens: a catalog LLM (``smollm2-135m``,
``qwen2.5-coder-1.5b``; pulled with ``textlens models pull``), an encoder
(``all-MiniLM-L6-v2``), a ``.gguf`` file, or a Hugging Face folder with ``config.json``.
GGUF files are dequantised to float32 by ``transformers`` (``from_pretrained(...,
gguf_file=...)``); attention runs the "eager" way so that its weights can be read.

Example:
    >>> facts = architecture("smollm2-135m")
    >>> facts.attention_type, facts.heads, facts.kv_heads
    ('GQA', 9, 3)
"""

from __future__ import annotations

import contextlib
import functools
import json
import struct
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from textlens.errors import AssetError, InputError, MissingDependency
from textlens.inside.gguf_meta import ArrayOf, read_meta
from textlens.loaded import Loaded
from textlens.models.ref import ModelRef, resolve

DEFAULT_MODEL = "smollm2-135m"
_models: Loaded[Any] = Loaded(max_items=2)


@dataclass(frozen=True)
class ModelFile:
    """Where a model's files are: a GGUF file, or a folder with ``config.json``."""

    name: str
    path: Path
    gguf: bool


def locate_model(name: str | ModelRef) -> ModelFile:
    """Find model ``name`` on this machine (never downloads).

    Raises:
        AssetError: a catalog LLM that was not pulled, or a path that holds no model.
    """
    path = Path(name).expanduser() if isinstance(name, str) else None
    if path is not None and path.is_dir() and path.suffix != ".gguf":
        if not (path / "config.json").is_file():
            raise AssetError(f"{path} has no config.json", hint="Name a Hugging Face model folder or a .gguf file.")
        return ModelFile(path.name, path, False)
    try:
        ref = resolve(name)
    except AssetError as exc:
        raise AssetError(
            f"unknown model {name!r}",
            hint="Name a catalog LLM (textlens models list), an encoder such as all-MiniLM-L6-v2, "
            "a .gguf file or a folder with config.json.",
        ) from exc
    if ref.kind == "llm":
        if ref.path is None:
            raise AssetError(f"the model {ref.name} is not on this machine", hint=f"textlens models pull {ref.name}")
        return ModelFile(ref.name, ref.path, True)
    if ref.kind == "gguf":
        if not ref.require_path().is_file():
            raise AssetError(f"no GGUF file at {ref.path}", hint="Check the path.")
        return ModelFile(ref.path.name, ref.path, True)
    if ref.kind != "encoder" or ref.path is None or not (ref.path / "config.json").is_file():
        raise AssetError(
            f"unknown model {ref.text!r} (not a catalog LLM, a packaged encoder, a .gguf file or a model folder)",
            hint="See textlens models list; encoders: all-MiniLM-L6-v2.",
        )
    return ModelFile(ref.name, ref.path, False)


@dataclass(frozen=True)
class Architecture:
    """A model's shape, as its files state it.

    Attributes:
        kind: ``decoder`` (causal LM) or ``encoder`` (bidirectional).
        head_dim: size of one head's queries, keys and values.
        rope_base: RoPE's base frequency (``None``: learned absolute positions).
        parameters: every weight in the file (tied matrices once); ``embedding_parameters`` of them
            the token embedding table.
        source: which file the facts come from (``GGUF metadata`` or ``config.json``).
    """

    name: str
    architecture: str
    kind: str
    layers: int
    hidden_size: int
    intermediate_size: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab_size: int
    context_length: int
    rope_base: float | None
    norm: str
    activation: str
    parameters: int
    embedding_parameters: int
    tied_embeddings: bool
    source: str

    @property
    def attention_type(self) -> str:
        """``MHA`` (a key/value head per query head), ``MQA`` (one shared) or ``GQA`` (groups)."""
        if self.kv_heads == self.heads:
            return "MHA"
        return "MQA" if self.kv_heads == 1 else "GQA"

    @property
    def group_size(self) -> int:
        """Query heads that share one key/value head."""
        return self.heads // self.kv_heads

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "attention_type": self.attention_type, "group_size": self.group_size}


ENCODER_TYPES = ("bert", "roberta", "xlm-roberta", "mpnet", "distilbert", "nomic-bert")


def architecture(name: str) -> Architecture:
    """The architecture facts of model ``name``, from its GGUF metadata or ``config.json`` (no weights read)."""
    return facts_of(locate_model(name))


def facts_of(found: ModelFile) -> Architecture:
    """The facts of a located model (cached while its file stays the same)."""
    return _facts(found.name, found.path, found.gguf, changed(found))


def changed(found: ModelFile) -> int:
    """When the model's file (a GGUF, or a folder's ``config.json``) last changed: a key for caches."""
    return (found.path if found.gguf else found.path / "config.json").stat().st_mtime_ns


@functools.lru_cache(maxsize=16)
def _facts(name: str, path: Path, gguf: bool, _mtime_ns: int) -> Architecture:
    """Facts of one file, read once while the file stays the same."""
    found = ModelFile(name, path, gguf)
    return _gguf_facts(found) if gguf else _config_facts(found)


def _gguf_facts(found: ModelFile) -> Architecture:
    try:
        meta = read_meta(found.path)
    except (OSError, ValueError) as exc:  # a truncated or foreign file
        raise InputError(f"{found.path}: not a readable GGUF file ({exc})", hint="Pull the model again.") from exc

    def field(key: str, default: Any = None) -> Any:
        return meta.fields.get(key, default)

    arch = field("general.architecture")
    if arch is None:
        raise InputError(f"{found.path}: no general.architecture in the GGUF metadata", hint="Re-convert the model.")
    heads = int(field(f"{arch}.attention.head_count"))
    hidden = int(field(f"{arch}.embedding_length"))
    tokens = field("tokenizer.ggml.tokens")
    vocab = field(f"{arch}.vocab_size") or (tokens.length if isinstance(tokens, ArrayOf) else 0)
    tensors = meta.tensors
    rms = field(f"{arch}.attention.layer_norm_rms_epsilon")
    return Architecture(
        name=found.name,
        architecture=arch,
        kind="encoder" if arch in ENCODER_TYPES else "decoder",
        layers=int(field(f"{arch}.block_count")),
        hidden_size=hidden,
        intermediate_size=int(field(f"{arch}.feed_forward_length", 0)),
        heads=heads,
        kv_heads=int(field(f"{arch}.attention.head_count_kv", heads)),
        head_dim=int(field(f"{arch}.attention.key_length", 0) or field(f"{arch}.rope.dimension_count", 0))
        or hidden // heads,
        vocab_size=int(vocab),
        context_length=int(field(f"{arch}.context_length", 0)),
        rope_base=float(field(f"{arch}.rope.freq_base", 10000.0)) if arch not in ENCODER_TYPES else None,
        norm="RMSNorm" if rms is not None else "LayerNorm",
        activation=_activation(arch),
        parameters=sum(tensors.values()),
        embedding_parameters=tensors.get("token_embd.weight", 0),
        tied_embeddings="output.weight" not in tensors,
        source="GGUF metadata",
    )


# the activation llama.cpp's graph applies for a GGUF architecture (GGUF files do not state it)
GGUF_ACTIVATION = {"llama": "silu", "mistral": "silu", "qwen2": "silu", "qwen3": "silu", "gemma3": "gelu_pytorch_tanh"}


def _activation(arch: str) -> str:
    """The activation of a GGUF architecture: llama.cpp's, or else the default of its ``transformers``
    definition (importing transformers takes seconds: only for architectures not listed)."""
    if arch in GGUF_ACTIVATION:
        return GGUF_ACTIVATION[arch]
    from transformers import CONFIG_MAPPING

    try:
        config = CONFIG_MAPPING[arch]()
    except KeyError:
        return "unknown"
    return str(getattr(config, "hidden_act", None) or getattr(config, "hidden_activation", "unknown"))


def _config_facts(found: ModelFile) -> Architecture:
    where = found.path / "config.json"
    try:
        config = json.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{where}: not JSON ({exc})", hint="Restore the model's config.json.") from exc
    needed = ("num_attention_heads", "hidden_size", "num_hidden_layers", "vocab_size")
    missing = [key for key in needed if key not in config] if isinstance(config, dict) else list(needed)
    if missing:
        raise InputError(
            f"{where}: no {', '.join(missing)}: not a transformer configuration textlens can read",
            hint="Name a Hugging Face transformer folder (BERT, Llama, Qwen2, Mistral, ...) or a .gguf file.",
        )
    shapes = _weight_shapes(found.path)
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    model_type = config.get("model_type", "unknown")
    encoder = model_type in ENCODER_TYPES
    rope = config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta")
    counts = {name: _numel(shape) for name, shape in shapes.items()}
    embedding = next((n for name, n in counts.items() if name.endswith("word_embeddings.weight")), 0) or next(
        (n for name, n in counts.items() if name.endswith("embed_tokens.weight")), 0
    )
    return Architecture(
        name=found.name,
        architecture=model_type,
        kind="encoder" if encoder else "decoder",
        layers=int(config["num_hidden_layers"]),
        hidden_size=hidden,
        intermediate_size=int(config.get("intermediate_size", 0)),
        heads=heads,
        kv_heads=int(config.get("num_key_value_heads") or heads),
        head_dim=int(config.get("head_dim") or hidden // heads),
        vocab_size=int(config["vocab_size"]),
        context_length=int(config.get("max_position_embeddings", 0)),
        rope_base=None if encoder or rope is None else float(rope),
        norm="LayerNorm" if "layer_norm_eps" in config else "RMSNorm" if "rms_norm_eps" in config else "unknown",
        activation=str(config.get("hidden_act") or config.get("hidden_activation") or "unknown"),
        parameters=sum(counts.values()),
        embedding_parameters=embedding,
        tied_embeddings=bool(config.get("tie_word_embeddings", encoder)),
        source="config.json",
    )


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _weight_shapes(folder: Path) -> dict[str, list[int]]:
    """Floating-point tensor shapes from the safetensors headers (the weights themselves are not read)."""
    shapes: dict[str, list[int]] = {}
    for file in sorted(folder.glob("*.safetensors")):
        with file.open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
        # weights only: integer tensors are buffers some checkpoints keep (BERT's position_ids)
        shapes.update(
            {k: v["shape"] for k, v in header.items() if k != "__metadata__" and v["dtype"].startswith(("F", "BF"))}
        )
    if not shapes:
        raise AssetError(f"{folder}: no .safetensors weights", hint="Save the model with safetensors.")
    return shapes


@dataclass
class LoadedModel:
    """A model in torch (float32, eval mode, eager attention) with its tokenizer and facts.

    ``hooks`` is held while a forward pass runs with textlens's hooks on the model, so that two
    threads (two server requests) never see each other's captured values.
    """

    facts: Architecture
    model: Any
    tokenizer: Any
    hooks: Any = field(default_factory=threading.Lock)

    @property
    def causal(self) -> bool:
        return self.facts.kind == "decoder"

    def encode(self, text: str, *, what: str = "text"):
        """Token ids (a ``1 x n`` tensor) of ``text``, checked against the model's context."""
        if not text:
            raise InputError(f"the {what} is empty", hint="Give some text.")
        ids = self.tokenizer(text, return_tensors="pt")["input_ids"]
        limit = self.facts.context_length
        if limit and ids.shape[1] > limit:
            raise InputError(
                f"the {what} is {ids.shape[1]:,} tokens; {self.facts.name} reads at most {limit:,}",
                hint="Shorten the text.",
            )
        return ids

    def forward(self, ids, **options: Any):
        """One forward pass over ``ids`` (``1 x n``), every token attended, no gradients."""
        import torch

        with torch.no_grad():
            return self.model(input_ids=ids, attention_mask=torch.ones_like(ids), **options)

    @contextlib.contextmanager
    def hooked(self, *, forward: tuple = (), pre: tuple = ()) -> Iterator[None]:
        """Inside the block, ``(module, hook)`` pairs are registered as forward hooks (``forward``) and
        forward pre-hooks (``pre``), with :attr:`hooks` held; they are removed when it ends."""
        with self.hooks:
            handles = [m.register_forward_hook(h) for m, h in forward] + [
                m.register_forward_pre_hook(h) for m, h in pre
            ]
            try:
                yield
            finally:
                for handle in handles:
                    handle.remove()

    def tokens(self, ids) -> list[str]:
        """Each id as the text it stands for (special tokens by name)."""
        return [self.tokenizer.decode([int(i)]) for i in ids]


def load(name: str = DEFAULT_MODEL) -> LoadedModel:
    """Load model ``name`` once per process (the two most recent stay loaded)."""
    found = locate_model(name)
    return _models.get(str(found.path), lambda: _load(found))


def unload() -> None:
    """Drop the loaded models (their memory is freed once nothing else holds them)."""
    _models.clear()


def _load(found: ModelFile) -> LoadedModel:
    try:
        import torch
        from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise MissingDependency(
            "looking inside a model needs torch and transformers", hint="pip install 'textlens[inside]'"
        ) from exc
    facts = facts_of(found)
    folder, extra = (found.path.parent, {"gguf_file": found.path.name}) if found.gguf else (found.path, {})
    cls = AutoModel if facts.kind == "encoder" else AutoModelForCausalLM
    try:
        model = cls.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32, **extra)
        tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(
            f"{found.path}: transformers cannot load this model ({str(exc).splitlines()[0]})",
            hint="Supported: the architectures transformers reads from GGUF (llama, qwen2, mistral, ...) "
            "and Hugging Face folders.",
        ) from exc
    model.eval()
    return LoadedModel(facts, model, tokenizer)
