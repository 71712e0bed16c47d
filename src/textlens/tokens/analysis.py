"""What a tokenizer does to a text: segments, statistics and the round trip.

Pure functions over a :class:`~textlens.tokens.base.Tokenizer` and a text; the
CLI, the JSON output and the HTML page all render these same objects.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import regex

from textlens.tokens.base import Tokenizer

SegmentKind = Literal["text", "special", "unk", "bytes"]

# A word is a run of letters, marks and digits; each Han or kana character counts
# as one word, since those scripts write no spaces.
_WORD = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]|(?:(?![\p{Han}\p{Hiragana}\p{Katakana}])[\p{L}\p{M}\p{N}])+")


def count_words(text: str) -> int:
    """Words in ``text`` (letter/digit runs; one per Han or kana character)."""
    return sum(1 for _ in _WORD.finditer(text))


@dataclass
class Segment:
    """One or more consecutive tokens shown as one piece of text.

    Tokens that each hold part of a multi-byte character are joined until the
    bytes decode, so a split character shows once instead of as U+FFFD.
    """

    text: str
    ids: list[int]
    kind: SegmentKind


def segments(tok: Tokenizer, ids: list[int]) -> list[Segment]:
    """Group ``ids`` into displayable segments."""
    table, specials, unk = tok.token_bytes, tok.special_ids, tok.unk_id
    out: list[Segment] = []
    buf, pending = b"", []

    def flush() -> None:
        nonlocal buf, pending
        if pending:
            out.append(Segment(buf.decode("utf-8", "backslashreplace"), pending, "bytes"))
        buf, pending = b"", []

    for i in ids:
        data = table[i] if 0 <= i < len(table) else b""
        if i in specials or i == unk:
            flush()
            out.append(Segment(data.decode("utf-8", "replace"), [i], "unk" if i == unk else "special"))
            continue
        buf += data
        pending.append(i)
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                flush()  # invalid bytes that no later token can complete
            continue
        out.append(Segment(text, pending, "text"))
        buf, pending = b"", []
    flush()
    return out


@dataclass
class TokenStats:
    """Counts and rates of one tokenizer on one text.

    ``fertility`` is tokens per word (Rust et al., 2021): 1.0 means one token
    per word; higher means words are cut into more pieces. Rates are over the
    content tokens (special tokens added by the tokenizer excluded).
    """

    count: int
    content_tokens: int
    special_added: list[str]
    chars: int
    bytes: int
    words: int
    chars_per_token: float
    bytes_per_token: float
    fertility: float
    unk_count: int
    unk_rate: float
    byte_fallback_count: int
    partial_utf8_count: int
    byte_token_rate: float


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def token_stats(tok: Tokenizer, text: str, ids: list[int], content: list[int]) -> TokenStats:
    """Statistics of ``ids`` (the full encoding) and ``content`` (without added specials)."""
    table, unk, fallback = tok.token_bytes, tok.unk_id, tok.byte_fallback_ids
    added = Counter(ids)
    added.subtract(content)
    special_added = [tok.token_bytes[i].decode("utf-8", "replace") for i in ids if added[i] > 0]
    is_partial = [is_partial_utf8(table[i]) for i in content]  # each token decoded once
    partial = sum(is_partial)
    n = len(content)
    n_bytes = len(text.encode("utf-8"))
    words = count_words(text)
    unk_count = sum(1 for i in content if i == unk) if unk is not None else 0
    byte_fb = sum(1 for i in content if i in fallback)
    byte_tokens = sum(1 for i, p in zip(content, is_partial, strict=True) if p or i in fallback)
    return TokenStats(
        count=len(ids),
        content_tokens=n,
        special_added=special_added,
        chars=len(text),
        bytes=n_bytes,
        words=words,
        chars_per_token=_ratio(len(text), n),
        bytes_per_token=_ratio(n_bytes, n),
        fertility=_ratio(n, words),
        unk_count=unk_count,
        unk_rate=_ratio(unk_count, n),
        byte_fallback_count=byte_fb,
        partial_utf8_count=partial,
        byte_token_rate=_ratio(byte_tokens, n),
    )


def is_partial_utf8(data: bytes) -> bool:
    """Whether a token's bytes are not whole UTF-8 characters (a byte-level token holding part of one)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


LossKind = Literal["case", "accents", "whitespace", "newlines", "unknown", "normalized"]


@dataclass
class RoundTrip:
    """What ``decode(encode(text))`` loses.

    ``losses`` counts differing stretches by kind: ``case`` (letters lowercased),
    ``accents`` (diacritics stripped), ``whitespace`` (runs, tabs or edges
    changed), ``newlines`` (line breaks lost), ``unknown`` (characters turned
    into the unknown token), ``normalized`` (other rewrites such as NFKC).
    """

    lossless: bool
    decoded: str
    losses: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


_SPACES = regex.compile(r"\s+")


def _marks(s: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFD", s) if unicodedata.combining(c))


def _core(s: str) -> str:
    """Letters and symbols only: decomposed, marks and whitespace removed."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c) and not c.isspace())


def _classify(orig: str, new: str, unk_text: str | None) -> list[LossKind]:
    """Kinds of loss that explain one differing stretch (several may apply)."""
    kinds: list[LossKind] = []
    if orig.count("\n") > new.count("\n"):
        kinds.append("newlines")
    if _SPACES.findall(orig.replace("\n", " ")) != _SPACES.findall(new.replace("\n", " ")):
        kinds.append("whitespace")
    if sum(c.isupper() for c in orig) > sum(c.isupper() for c in new):
        kinds.append("case")
    decomposed = orig != new and unicodedata.normalize("NFD", orig) == unicodedata.normalize("NFD", new)
    if _marks(orig) > _marks(new) or decomposed:
        kinds.append("accents")
    if (unk_text and unk_text in new) or "\ufffd" in new or len(_core(new)) < len(_core(orig)):
        kinds.append("unknown")
    return kinds or ["normalized"]


MAX_DIFF_CHARS = 200_000


def round_trip(tok: Tokenizer, text: str, ids: list[int], *, max_examples: int = 5) -> RoundTrip:
    """Decode ``ids`` and describe how the result differs from ``text``."""
    decoded = tok.decode(ids)
    if decoded == text:
        return RoundTrip(True, decoded)
    result = RoundTrip(False, decoded)
    if len(text) > MAX_DIFF_CHARS:
        result.losses["unclassified"] = 1
        return result
    unk = tok.token_bytes[tok.unk_id].decode("utf-8", "replace") if tok.unk_id is not None else None
    matcher = difflib.SequenceMatcher(None, text, decoded, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        kinds = _classify(text[a0:a1], decoded[b0:b1], unk)
        for kind in kinds:
            result.losses[kind] = result.losses.get(kind, 0) + 1
        if len(result.examples) < max_examples:
            result.examples.append({"kinds": kinds, "position": a0, "original": text[a0:a1], "decoded": decoded[b0:b1]})
    return result


@dataclass
class TokenizerReport:
    """Everything about one tokenizer on one text."""

    name: str
    format: str
    source: str
    vocab_size: int
    ids: list[int]
    tokens: list[str]
    segments: list[Segment]
    stats: TokenStats
    roundtrip: RoundTrip

    def to_dict(self, *, with_segments: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data["count"] = self.stats.count
        if not with_segments:
            data.pop("segments")
        return data


def token_texts(tok: Tokenizer, ids: list[int]) -> list[str]:
    """Each token's text on its own; bytes that are not UTF-8 alone show as ``\\xNN``."""
    table = tok.token_bytes
    return [table[i].decode("utf-8", "backslashreplace") for i in ids]


def analyze(tok: Tokenizer, text: str) -> TokenizerReport:
    """Encode ``text`` and report tokens, segments, statistics and round trip."""
    ids = tok.encode(text)
    content = tok.encode(text, add_special_tokens=False)
    return TokenizerReport(
        name=tok.name,
        format=tok.format,
        source=tok.source,
        vocab_size=tok.vocab_size,
        ids=ids,
        tokens=token_texts(tok, ids),
        segments=segments(tok, ids),
        stats=token_stats(tok, text, ids, content),
        roundtrip=round_trip(tok, text, content),
    )


@dataclass
class CategoryCell:
    """One tokenizer on one probe category."""

    tokens: int
    flags: list[str]


def category_cell(tok: Tokenizer, text: str) -> CategoryCell:
    """Tokens for one category (no specials) and its failure flags.

    Flags: ``UNK`` (unknown tokens), ``WS`` (whitespace or newlines lost in the
    round trip), ``BYTE`` (byte-fallback or partial-UTF-8 tokens), ``CASE``,
    ``ACCENT``.
    """
    ids = tok.encode(text, add_special_tokens=False)
    stats = token_stats(tok, text, ids, ids)
    rt = round_trip(tok, text, ids)
    flags = []
    if stats.unk_count or rt.losses.get("unknown"):
        flags.append("UNK")
    if rt.losses.get("whitespace") or rt.losses.get("newlines"):
        flags.append("WS")
    if stats.byte_fallback_count or stats.partial_utf8_count:
        flags.append("BYTE")
    if rt.losses.get("case"):
        flags.append("CASE")
    if rt.losses.get("accents"):
        flags.append("ACCENT")
    return CategoryCell(len(ids), flags)
