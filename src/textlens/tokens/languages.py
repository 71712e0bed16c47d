"""What each tokenizer charges each language: token premiums on a parallel text (``textlens tokens languages``).

The premium of a language is how many tokens it needs for the same content as the pivot language (English by
default): its tokens over the pivot's, on the segments both have (Petrov et al., 2023, "Language Model Tokenizers
Introduce Unfairness Between Languages"). Beside it, per language and tokenizer: bytes and characters per token,
the share of byte tokens (SentencePiece byte fallback, or byte-level tokens that hold part of a character) and of
unknown tokens, and what ``decode(encode(text))`` loses. With a price per million tokens and a context window per
tokenizer (:func:`price_table`), what a document of ``words`` pivot-language words costs in each language and how
much of the context it fills.

Example:
    >>> from textlens.tokens.languages import languages
    >>> report = languages(None, ["gpt-4", "gpt-4o"])  # the UDHR, complete translations       # doctest: +SKIP
    >>> report.summary("gpt-4").median_premium                                                   # doctest: +SKIP
    2.31
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textlens.errors import ConflictingInput, InputError
from textlens.progress import Progress
from textlens.tokens.analysis import count_words, is_partial_utf8
from textlens.tokens.base import Tokenizer
from textlens.tokens.options import LanguageOptions
from textlens.tokens.parallel import LanguageText, Note, ParallelText, read_parallel
from textlens.tokens.prices import Price, price_table
from textlens.tokens.scripts import SCRIPT_NAMES

METRICS = (
    "premium", "tokens", "bytes_per_token", "chars_per_token", "byte_share", "unk_share", "roundtrip_loss",
    "doc_tokens", "doc_cost_usd", "context_share",
)  # fmt: skip
LOSSY = 0.10
"""A cell whose round trip loses more than this share of the text counts another text (unknown tokens, a script
rewritten): it is shown, struck through, and left out of the medians and rankings (Petrov et al. leave out pairs
with over 10% unknown characters)."""
SCRIPT_LABELS = {"Jpan": "Japanese (Han + kana)", "Kore": "Korean (Hangul + Han)"}


# -- the report ----------------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One language with one tokenizer."""

    tokens: int
    premium: float
    bytes_per_token: float
    chars_per_token: float
    byte_share: float
    unk_share: float
    roundtrip_loss: float  # share of the text's characters (whitespace aside) missing from decode(encode(text))
    doc_tokens: int  # tokens of a document of `words` pivot words, in this language
    doc_cost_usd: float | None = None
    context_share: float | None = None


@dataclass
class LanguageRow:
    code: str
    name: str
    script: str | None
    direction: str
    segments: int  # the segments it shares with the pivot (those measured)
    chars: int
    bytes: int
    latitude: float | None
    longitude: float | None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def script_name(self) -> str:
        return script_label(self.script)


def script_label(code: str | None) -> str:
    return SCRIPT_LABELS.get(code or "", SCRIPT_NAMES.get(code or "", code or "none").replace("_", " "))


@dataclass
class TokenizerSummary:
    name: str
    vocab_size: int
    median_premium: float
    cheapest: list[tuple[str, float]]  # the five cheapest languages, (code, premium)
    dearest: list[tuple[str, float]]  # the `top` most expensive
    pivot_tokens_per_word: float
    price: Price | None
    seconds: float
    lossy: list[str] = field(default_factory=list)  # languages left out of the median and rankings (LOSSY)

    def doc_cost(self, words: int, premium: float = 1.0) -> float | None:
        """US dollars for a document of ``words`` pivot words in a language of this ``premium``; ``None`` without
        a price."""
        return self.price.cost(words * self.pivot_tokens_per_word * premium) if self.price else None


@dataclass
class LanguageReport:
    """Premiums and costs of several tokenizers over the languages of a parallel text."""

    source: str
    pivot: str
    words: int
    tokenizers: list[TokenizerSummary]
    rows: list[LanguageRow]
    notes: list[Note]
    left_out: dict[str, str]
    seconds: float
    lossy_above: float = LOSSY

    def summary(self, name: str) -> TokenizerSummary:
        return next(s for s in self.tokenizers if s.name == name)

    def row(self, code: str) -> LanguageRow:
        return next(r for r in self.rows if r.code == code)

    def by_script(self) -> dict[str, dict[str, float | None]]:
        """Median premium per script (in the rows' order) and tokenizer, lossy cells (:data:`LOSSY`) left out
        (``None`` where a script has no other)."""
        groups: dict[str, list[LanguageRow]] = {}
        for r in self.rows:
            groups.setdefault(r.script_name, []).append(r)
        out: dict[str, dict[str, float | None]] = {}
        for script, rows in groups.items():
            out[script] = {}
            for t in self.tokenizers:
                sound = [r.cells[t.name].premium for r in rows if r.cells[t.name].roundtrip_loss <= LOSSY]
                out[script][t.name] = round(statistics.median(sound), 3) if sound else None
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``--json`` and of ``POST /api/tokens/languages``."""
        return {
            "source": self.source,
            "pivot": self.pivot,
            "words": self.words,
            "seconds": round(self.seconds, 2),
            "tokenizers": [asdict(t) for t in self.tokenizers],
            "languages": [{**asdict(r), "script_name": r.script_name} for r in self.rows],
            "by_script": self.by_script(),
            "notes": [asdict(n) for n in self.notes],
            "left_out": self.left_out,
        }

    def to_csv(self) -> str:
        """One line per language and tokenizer, every figure."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        head = ["code", "name", "script", "direction", "segments", "chars", "bytes", "tokenizer"]
        writer.writerow(head + list(METRICS))
        for r in self.rows:
            for name, c in r.cells.items():
                base = [r.code, r.name, r.script_name, r.direction, r.segments, r.chars, r.bytes, name]
                writer.writerow(base + ["" if getattr(c, m) is None else getattr(c, m) for m in METRICS])
        return out.getvalue()

    def html(self) -> str:
        from textlens.tokens.languages_html import report_html

        return report_html(self)

    def _repr_html_(self) -> str:
        from textlens.tokens.languages_html import report_fragment

        return report_fragment(self, standalone=False)

    def write_png(self, path: str | Path) -> list[Path]:
        """The heatmap (languages × tokenizers) at ``path`` and the script chart beside it (``*-scripts.png``)."""
        from textlens.tokens.languages_png import write_png

        return write_png(self, Path(path))


# -- measuring -------------------------------------------------------------------------------------------------------
def languages(
    source: str | Path | ParallelText | None = None,
    tokenizers: Sequence[str | Tokenizer] | None = None,
    *,
    options: LanguageOptions | None = None,
    prices: dict[str, Price] | None = None,
    num_threads: int = 0,
    progress: Progress | None = None,
    counted: MutableMapping[tuple[str, str], list[dict[str, int]]] | None = None,
    **changes: Any,
) -> LanguageReport:
    """Measure what each tokenizer charges each language of a parallel text.

    Args:
        source: a parallel text (:func:`~textlens.tokens.parallel.read_parallel`'s forms), one already read, or
            ``None`` for the UDHR.
        tokenizers: names, paths or loaded tokenizers; ``None`` is the default comparison set available here.
        options: :class:`LanguageOptions`; ``changes`` override its fields by name (``pivot="fra"``).
        prices: price and context per tokenizer name (default :func:`price_table`).
        num_threads: native encoding threads (0: all cores).
        progress: called as ``progress("tokenizers", done, total)``.
        counted: where to keep each tokenizer's counts on this source, by (tokenizer, pivot), to reuse them with
            other options (the server keeps them for the UDHR).

    Raises:
        InputError: the pivot is not in the text, or the text is not parallel.
    """
    from textlens.tokens.compare import default_tokenizers
    from textlens.tokens.registry import get_tokenizer

    opts = LanguageOptions.merged(options, **changes)
    start = time.perf_counter()
    if isinstance(source, ParallelText):
        parallel = source
    else:
        parallel = read_parallel(
            source,
            lang_field=opts.lang_field,
            id_field=opts.id_field,
            text_field=opts.text_field,
            complete_only=opts.complete_only,
        )
    pivot = _pivot(parallel, opts.pivot)
    texts, notes, unaligned = _aligned(parallel, pivot)
    loaded = [t if isinstance(t, Tokenizer) else get_tokenizer(t) for t in (tokenizers or default_tokenizers()[0])]
    loaded = list({t.name: t for t in loaded}.values())  # a tokenizer named twice (or by an alias) counts once
    if not loaded:
        raise InputError("no tokenizer to measure", hint="Name one or more: -t gpt-4 -t llama-3.")
    table = price_table() if prices is None else prices
    threads = num_threads or os.cpu_count() or 1
    rows = [_row(t, shared) for t, shared in texts]
    pivot_words = count_words(pivot.text)
    summaries = []
    if progress:
        progress("tokenizers", 0, len(loaded))
    for k, tok in enumerate(loaded):
        t0 = time.perf_counter()
        key = (tok.name, pivot.code)
        counts = counted.get(key) if counted is not None else None
        if counts is None:
            counts = _measure(tok, texts, threads)
            if counted is not None:
                counted[key] = counts
        per_word = counts[0]["tokens"] / pivot_words if pivot_words else 0.0
        price = table.get(tok.name)
        for row, c in zip(rows, counts, strict=True):
            row.cells[tok.name] = _cell(row, c, opts.words * per_word, price)
        summaries.append(_summary(tok, rows, per_word, price, opts.top, time.perf_counter() - t0))
        if progress:
            progress("tokenizers", k + 1, len(loaded))
    order = _script_order(rows)
    rows.sort(key=lambda r: (order[r.script_name], r.cells[loaded[0].name].premium))
    return LanguageReport(
        source=parallel.source,
        pivot=pivot.code,
        words=opts.words,
        tokenizers=summaries,
        rows=rows,
        notes=parallel.notes + notes,
        left_out={**parallel.left_out, **unaligned},
        seconds=time.perf_counter() - start,
    )


def _cell(row: LanguageRow, c: dict[str, int], pivot_doc_tokens: float, price: Price | None) -> Cell:
    """A language's figures with one tokenizer, from its counts; ``pivot_doc_tokens``: the pivot's tokens for a
    document of ``words`` words."""
    premium = c["tokens"] / c["pivot_tokens"] if c["pivot_tokens"] else 0.0
    doc_tokens = round(pivot_doc_tokens * premium)
    cost = price.cost(doc_tokens) if price else None
    context = price.context if price else None
    return Cell(
        tokens=c["tokens"],
        premium=round(premium, 4),
        bytes_per_token=_ratio(row.bytes, c["tokens"]),
        chars_per_token=_ratio(row.chars, c["tokens"]),
        byte_share=_ratio(c["byte_tokens"], c["tokens"]),
        unk_share=_ratio(c["unk_tokens"], c["tokens"]),
        roundtrip_loss=_ratio(c["lost_chars"], c["core_chars"]),
        doc_tokens=doc_tokens,
        doc_cost_usd=round(cost, 6) if cost is not None else None,
        context_share=round(doc_tokens / context, 4) if context else None,
    )


def _summary(
    tok: Tokenizer, rows: list[LanguageRow], per_word: float, price: Price | None, top: int, seconds: float
) -> TokenizerSummary:
    sound = [r for r in rows if r.cells[tok.name].roundtrip_loss <= LOSSY] or rows
    ranked = sorted(sound, key=lambda r: r.cells[tok.name].premium)
    return TokenizerSummary(
        name=tok.name,
        vocab_size=tok.vocab_size,
        median_premium=round(statistics.median(r.cells[tok.name].premium for r in sound), 4),
        cheapest=[(r.code, r.cells[tok.name].premium) for r in ranked[:5]],
        dearest=[(r.code, r.cells[tok.name].premium) for r in ranked[::-1][:top]],
        pivot_tokens_per_word=round(per_word, 4),
        price=price,
        seconds=round(seconds, 3),
        lossy=[r.code for r in rows if r.cells[tok.name].roundtrip_loss > LOSSY],
    )


def _pivot(parallel: ParallelText, code: str) -> LanguageText:
    found = parallel.get(code)
    if found is not None:
        return found
    if code in parallel.left_out:
        raise ConflictingInput(f"the pivot language {code!r} is left out: {parallel.left_out[code]}")
    close = difflib.get_close_matches(code, parallel.codes(), n=5, cutoff=0.5)
    by_name = [t.code for t in parallel.languages if code.lower() in t.name.lower()][:5]
    known = ", ".join(dict.fromkeys(close + by_name)) or ", ".join(parallel.codes()[:10]) + " ..."
    raise ConflictingInput(
        f"the pivot language {code!r} is not in {parallel.source}",
        hint=f"Pass --pivot with one of its codes: {known}.",
        api_hint=f"Set pivot to one of its codes: {known}.",
    )


def _aligned(
    parallel: ParallelText, pivot: LanguageText
) -> tuple[list[tuple[LanguageText, list[str]]], list[Note], dict[str, str]]:
    """Each language (the pivot first) with the segment ids it shares with the pivot; notes on the rest, and the
    languages that share none."""
    notes, out, unaligned = [], [(pivot, list(pivot.segments))], {}
    for t in parallel.languages:
        if t is pivot:
            continue
        shared = [sid for sid in t.segments if sid in pivot.segments]
        missing = [sid for sid in pivot.segments if sid not in t.segments]
        extra = [sid for sid in t.segments if sid not in pivot.segments]
        if missing:
            ids = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
            msg = f"lacks {len(missing)} of the pivot's {len(pivot.segments)} segments ({ids}); measured on the rest"
            notes.append(Note("missing", msg, t.code, t.where))
        if extra:
            ids = ", ".join(extra[:8]) + (" ..." if len(extra) > 8 else "")
            notes.append(Note("extra", f"{len(extra)} segments the pivot lacks ({ids}): not measured", t.code, t.where))
        if not shared:
            unaligned[t.code] = "no segment in common with the pivot"
            continue
        out.append((t, shared))
    return out, notes, unaligned


def _joined(t: LanguageText, ids: list[str]) -> str:
    return "\n".join(t.segments[s] for s in ids)


def _row(t: LanguageText, shared: list[str]) -> LanguageRow:
    text = _joined(t, shared)
    return LanguageRow(
        code=t.code,
        name=t.name or t.code,
        script=t.script,
        direction=t.direction or "ltr",
        segments=len(shared),
        chars=len(text),
        bytes=len(text.encode("utf-8")),
        latitude=t.latitude,
        longitude=t.longitude,
    )


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def _token_masks(tok: Tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """Per id: whether it is a byte token (byte fallback, or bytes that are not a whole character), and unknown."""
    table = tok.token_bytes
    byte = np.fromiter(map(is_partial_utf8, table), dtype=bool, count=len(table))
    for i in tok.byte_fallback_ids:
        if i < len(byte):
            byte[i] = True
    unk = np.zeros(len(table), dtype=bool)
    if tok.unk_id is not None and tok.unk_id < len(unk):
        unk[tok.unk_id] = True
    return byte, unk


def _lost(original: str, decoded: str) -> tuple[int, int]:
    """Characters of ``original`` (whitespace aside) that ``decoded`` lacks, and how many there were: each
    character counted as often as it is missing (a lowercased capital, a stripped accent, an unknown token).
    Canonically equivalent text is the same text: both sides are compared in NFC (a tokenizer that composes
    ``e`` and a combining accent into ``é`` loses nothing)."""
    if original == decoded:
        n = sum(1 for c in original if not c.isspace())
        return 0, n
    original, decoded = unicodedata.normalize("NFC", original), unicodedata.normalize("NFC", decoded)
    want = Counter(c for c in original if not c.isspace())
    have = Counter(c for c in decoded if not c.isspace())
    return sum(max(0, n - have[c]) for c, n in want.items()), sum(want.values())


def _measure(tok: Tokenizer, texts: list[tuple[LanguageText, list[str]]], threads: int) -> list[dict[str, int]]:
    """Per language: its tokens on the shared segments, the pivot's on the same, byte and unknown tokens, and the
    round trip's lost characters. Each segment is encoded alone (no special tokens), all in one native batch."""
    flat = [(k, sid, t.segments[sid]) for k, (t, shared) in enumerate(texts) for sid in shared]
    encoded = tok.encode_batch([s for _, _, s in flat], add_special_tokens=False, num_threads=threads)
    byte, unk = _token_masks(tok)
    size = len(byte)
    pivot_counts = {sid: len(ids) for (k, sid, _), ids in zip(flat, encoded, strict=True) if k == 0}
    out = [
        {"tokens": 0, "pivot_tokens": 0, "byte_tokens": 0, "unk_tokens": 0, "lost_chars": 0, "core_chars": 0}
        for _ in texts
    ]
    for (k, sid, text), ids in zip(flat, encoded, strict=True):
        cell = out[k]
        arr = np.asarray(ids, dtype=np.int64)
        arr = arr[(arr >= 0) & (arr < size)]
        cell["tokens"] += len(ids)
        cell["pivot_tokens"] += pivot_counts[sid]
        cell["byte_tokens"] += int(byte[arr].sum())
        cell["unk_tokens"] += int(unk[arr].sum())
        lost, core = _lost(text, tok.decode(ids))
        cell["lost_chars"] += lost
        cell["core_chars"] += core
    return out


def _script_order(rows: list[LanguageRow]) -> dict[str, int]:
    """Scripts by how many languages use them, most first (Latin, Cyrillic, ...), then by name."""
    counts = Counter(r.script_name for r in rows)
    return {s: i for i, s in enumerate(sorted(counts, key=lambda s: (-counts[s], s)))}
