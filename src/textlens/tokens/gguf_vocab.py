"""The tokenizer inside a GGUF file (llama.cpp, Ollama, LM Studio).

Only the ``tokenizer.ggml.*`` metadata is read, with the ``gguf`` package's
memory-mapped reader: the weights are never loaded, so a 40 GB model file opens
as fast as a vocab-only one. The metadata is rebuilt as a Rust ``tokenizers``
pipeline that reproduces the original Hugging Face tokenizer (llama.cpp's own
test vectors are made with it):

- ``gpt2``: byte-level BPE with merges, and the pre-tokenizer regexes llama.cpp
  uses for the ``tokenizer.ggml.pre`` type;
- ``llama``: SentencePiece BPE with byte fallback; merges are derived from the
  piece scores (a merge's rank is its merged piece's score);
- ``bert``: WordPiece; llama.cpp stores word-initial pieces with a leading
  ``\u2581`` and continuation pieces bare, the reverse of BERT's ``##``.

Other vocab types (``t5``/UGM, ``rwkv``, ``plamo2``...) raise a clear error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, processors
from tokenizers import Tokenizer as _HFTokenizer

from textlens.atomic import write_json
from textlens.config import settings
from textlens.errors import TokenizerError
from textlens.tokens.hf_json import HFTokenizer

# Token types written by llama.cpp's converters.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

_GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
_LLAMA3 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
# Latin, Greek, Cyrillic... letters as listed by DeepSeek LLM's tokenizer.json.
_DEEPSEEK_LETTERS = (
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
    "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c"
    "\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5"
    "\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
    "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59"
    "\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
    "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107"
    "\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
    "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
    "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e"
    "\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f"
    "\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
    "\U000118a0-\U000118df\U0001e900-\U0001e943"
)

# Pre-tokenizer regexes per ``tokenizer.ggml.pre`` value, each applied in turn,
# keeping matches and the text between them (as the original tokenizers split).
PRE_TOKENIZER_REGEXES: dict[str, list[str]] = {
    "default": [_GPT2],
    "gpt-2": [_GPT2],
    "mpt": [_GPT2],
    "olmo": [_GPT2],
    "jais": [_GPT2],
    "starcoder": [r"\p{N}", _GPT2],
    "refact": [r"\p{N}", _GPT2],
    "command-r": [r"\p{N}", _GPT2],
    "smollm": [r"\p{N}", _GPT2],
    "falcon": [r"[\p{P}\$\+<=>\^~\|`]+", _GPT2, "[0-9][0-9][0-9]"],
    "deepseek-coder": [r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", _CJK, r"\p{N}"],
    "deepseek-llm": [
        r"[\r\n]",
        rf"\s?[{_DEEPSEEK_LETTERS}]+",
        "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
        r"\s+$",
        _CJK,
        r"\p{N}+",
    ],
    "llama3": [_LLAMA3],
    "llama-bpe": [_LLAMA3],
    "dbrx": [_LLAMA3],
    "smaug-bpe": [_LLAMA3],
    "qwen2": [_QWEN2],
}

SUPPORTED_VOCAB_TYPES = ("gpt2", "llama", "bert")


class GGUFMetadata:
    """The ``tokenizer.ggml.*`` keys of a GGUF file, read without the weights."""

    def __init__(self, path: Path) -> None:
        from gguf import GGUFReader, GGUFValueType

        self.path = path
        try:
            reader = GGUFReader(str(path), "r")
        except Exception as exc:  # the reader raises ValueError, struct.error, IndexError...
            raise TokenizerError(
                f"{path} is not a readable GGUF file: {type(exc).__name__}: {exc}",
                hint="Check that the file is complete (not truncated) and is a GGUF file "
                "(it starts with the bytes 'GGUF').",
            ) from exc
        self._fields: dict[str, Any] = {}
        for key, field in reader.fields.items():
            if not key.startswith("tokenizer.") and key != "general.name":
                continue
            types = field.types
            if types and types[0] == GGUFValueType.ARRAY:
                if types[-1] == GGUFValueType.STRING:
                    value: Any = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
                else:
                    value = np.concatenate([field.parts[i] for i in field.data]) if field.data else np.array([])
            elif types and types[0] == GGUFValueType.STRING:
                value = bytes(field.parts[field.data[0]]).decode("utf-8")
            else:
                value = field.parts[field.data[0]][0].item()
            self._fields[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self._fields.get(f"tokenizer.ggml.{key}", default)

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise TokenizerError(
                f"{self.path} has no tokenizer.ggml.{key} key, which a {self.get('model')!r} vocabulary needs.",
                hint="The file was written by an old or broken converter; re-convert the "
                "model with a current llama.cpp convert_hf_to_gguf.py.",
            )
        return value


def _add_added(tok: Any, tokens: list[str], types: np.ndarray) -> None:
    """Give ``tok`` the vocabulary's control tokens as special tokens and its user-defined ones as plain added
    tokens: matched whole in the text, and kept by a decode that skips special tokens (``add_special_tokens`` would
    make them all special: DeepSeek's user-defined ``ü`` would then vanish from decoded text)."""
    from tokenizers import AddedToken

    def added(kind: int) -> list[Any]:
        return [AddedToken(tokens[i], special=kind == CONTROL, normalized=False) for i in np.flatnonzero(types == kind)]

    tok.add_special_tokens([t for t in added(CONTROL) if t.content])
    tok.add_tokens([t for t in added(USER_DEFINED) if t.content])


def _bos_template(tok: _HFTokenizer, bos: str | None, eos: str | None) -> None:
    single = " ".join(x for x in (bos and f"{bos}:0", "$A:0", eos and f"{eos}:0") if x)
    pair = " ".join(
        x for x in (bos and f"{bos}:0", "$A:0", eos and f"{eos}:0", bos and f"{bos}:1", "$B:1", eos and f"{eos}:1") if x
    )
    specials = [(t, tok.token_to_id(t)) for t in (bos, eos) if t]
    tok.post_processor = processors.TemplateProcessing(single=single, pair=pair, special_tokens=specials)


def _build_bpe(meta: GGUFMetadata, tokens: list[str], types: np.ndarray) -> _HFTokenizer:
    pre = meta.get("pre", "default")
    if pre not in PRE_TOKENIZER_REGEXES:
        raise TokenizerError(
            f"{meta.path}: pre-tokenizer type tokenizer.ggml.pre={pre!r} is not supported.",
            hint="Supported: "
            + ", ".join(sorted(PRE_TOKENIZER_REGEXES))
            + ". Load the model's tokenizer.json instead (hf:ORG/NAME or a file path).",
        )
    merges = [tuple(m.split(" ", 1)) for m in meta.require("merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = _HFTokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    splits = [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in PRE_TOKENIZER_REGEXES[pre]]
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [*splits, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    _add_added(tok, tokens, types)
    return tok


def spm_merges(tokens: list[str], scores: np.ndarray, types: np.ndarray) -> list[tuple[str, str]]:
    """BPE merges of a SentencePiece BPE vocabulary, ranked by merged-piece score.

    SentencePiece BPE repeatedly joins the adjacent pair whose joined piece has
    the highest score; a BPE model whose merge ranks follow those scores makes
    the same choices. Ties go to the shorter left piece, as in the reference
    converters.
    """
    vocab = {t: i for i, t in enumerate(tokens) if types[i] in (NORMAL, USER_DEFINED)}
    found = []
    for piece, pid in vocab.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                found.append((-float(scores[pid]), pid, len(left), left, right))
    found.sort()
    return [(left, right) for *_, left, right in found]


def _build_spm(meta: GGUFMetadata, tokens: list[str], types: np.ndarray) -> _HFTokenizer:
    scores = np.asarray(meta.require("scores"), dtype=np.float32)
    vocab = {t: i for i, t in enumerate(tokens)}
    unk_id = int(meta.get("unknown_token_id", 0))
    tok = _HFTokenizer(
        models.BPE(
            vocab=vocab,
            merges=spm_merges(tokens, scores, types),
            unk_token=tokens[unk_id],
            fuse_unk=True,
            byte_fallback=True,
        )
    )
    steps = [normalizers.Replace(" ", "\u2581")]
    if meta.get("add_space_prefix", True):
        steps.insert(0, normalizers.Prepend("\u2581"))
    tok.normalizer = normalizers.Sequence(steps)
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("\u2581", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            *([decoders.Strip(" ", 1, 0)] if meta.get("add_space_prefix", True) else []),
        ]
    )
    _add_added(tok, tokens, types)
    return tok


def _build_wpm(meta: GGUFMetadata, tokens: list[str], types: np.ndarray) -> _HFTokenizer:
    # llama.cpp writes "\u2581word" for word-initial pieces and "piece" for BERT's "##piece".
    vocab = {}
    for i, t in enumerate(tokens):
        if types[i] == CONTROL or (t.startswith("[") and t.endswith("]")):
            vocab[t] = i
        elif t.startswith("\u2581"):
            vocab[t[1:]] = i
        else:
            vocab["##" + t] = i
    unk = tokens[int(meta.get("unknown_token_id", 100))]
    tok = _HFTokenizer(models.WordPiece(vocab=vocab, unk_token=unk, max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    _add_added(tok, tokens, types)
    return tok


_CACHE_VERSION = 2  # 2: user-defined tokens are plain added tokens, not special ones


def _cache_path(path: Path, add_bos: bool | None) -> Path:
    """Where the rebuilt tokenizer of a GGUF file is cached.

    Reading 100k+ strings with the ``gguf`` reader takes seconds; the rebuilt
    tokenizer.json loads in a fraction of that. The key covers the file's
    path, size and modification time, so an edited file is read again.
    """
    stat = path.stat()
    key = f"{_CACHE_VERSION}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{add_bos}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return settings().home / "cache" / "gguf" / f"{digest}.json"


def load_gguf(path: Path, *, name: str, source: str, add_bos: bool | None = None) -> HFTokenizer:
    """Build the tokenizer of a GGUF file.

    Args:
        path: a GGUF file (vocab-only or a full model; weights are not read).
        name: name to show.
        source: where the file came from, to show.
        add_bos: override the file's ``tokenizer.ggml.add_bos_token``.

    Raises:
        TokenizerError: unreadable file, or a vocab/pre-tokenizer type not supported.
    """
    cache = _cache_path(path, add_bos)
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        return HFTokenizer(
            _HFTokenizer.from_str(saved["tokenizer"]),
            name=name,
            format="gguf-vocab",
            source=source,
            piece_style=saved["piece_style"],
        )
    meta = GGUFMetadata(path)
    kind = meta.get("model")
    if kind not in SUPPORTED_VOCAB_TYPES:
        raise TokenizerError(
            f"{path}: GGUF vocab type tokenizer.ggml.model={kind!r} is not supported; "
            f"supported types are {', '.join(SUPPORTED_VOCAB_TYPES)}.",
            hint="Load the model's Hugging Face tokenizer.json instead (hf:ORG/NAME or a file path).",
        )
    tokens: list[str] = meta.require("tokens")
    types = np.asarray(meta.get("token_type", [NORMAL] * len(tokens)), dtype=np.int32)
    build = {"gpt2": _build_bpe, "llama": _build_spm, "bert": _build_wpm}[kind]
    tok = build(meta, tokens, types)

    def special(key: str) -> str | None:
        idx = meta.get(f"{key}_token_id")
        return tokens[int(idx)] if idx is not None and 0 <= int(idx) < len(tokens) else None

    if kind == "bert":
        _bos_template(tok, special("cls"), special("seperator") or special("separator"))
    else:
        default_bos = kind == "llama"
        want_bos = add_bos if add_bos is not None else bool(meta.get("add_bos_token", default_bos))
        want_eos = bool(meta.get("add_eos_token", False))
        _bos_template(tok, special("bos") if want_bos else None, special("eos") if want_eos else None)
    style = {"gpt2": "byte_level", "llama": "metaspace", "bert": "wordpiece"}[kind]
    write_json(cache, {"piece_style": style, "tokenizer": tok.to_str()})
    return HFTokenizer(tok, name=name, format="gguf-vocab", source=source, piece_style=style)
