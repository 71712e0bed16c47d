"""Token statistics over a file or folder: ``textlens tokens stats``.

Streams the input in blocks of about 1 MB (constant memory, whatever the file
size), encodes each batch of blocks with the tokenizer's native threads, and
keeps one count per document. A document is a ``.txt``/``.md`` (or other text)
file, or one record of a ``.jsonl`` file.

A text file larger than a block is cut at a line break (a blank line where one
is near); the tokens of the pieces are summed. Tokens never span a line break
in byte-level BPE, so for those the sum is exact; SentencePiece models add one
prefix space per piece, a difference below 0.01% (measured in the tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import regex

from textlens.errors import InputError
from textlens.progress import Progress
from textlens.tokens.base import Tokenizer

BLOCK_BYTES = 1 << 20
BATCH_BYTES = 4 << 20
TEXT_SUFFIXES = {
    ".txt",
    ".md",
    ".markdown",
    ".rst",
    ".text",
    ".csv",
    ".tsv",
    ".html",
    ".xml",
    ".py",
    ".js",
    ".ts",
    ".java",
    ".c",
    ".h",
    ".cpp",
    ".rs",
    ".go",
    ".json",
}
SCRIPTS = (
    "Latin",
    "Han",
    "Hangul",
    "Kana",
    "Cyrillic",
    "Greek",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Thai",
    "OtherLetters",
)
_SCRIPT_RE = regex.compile(
    r"(?P<Latin>\p{Latin}+)|(?P<Han>\p{Han}+)|(?P<Hangul>\p{Hangul}+)"
    r"|(?P<Kana>[\p{Hiragana}\p{Katakana}]+)|(?P<Cyrillic>\p{Cyrillic}+)|(?P<Greek>\p{Greek}+)"
    r"|(?P<Arabic>\p{Arabic}+)|(?P<Hebrew>\p{Hebrew}+)|(?P<Devanagari>\p{Devanagari}+)"
    r"|(?P<Thai>\p{Thai}+)|(?P<OtherLetters>\p{L}+)"
)
_SCRIPT_INDEX = {name: i for i, name in enumerate((*SCRIPTS, "Common"))}
COMMON = _SCRIPT_INDEX["Common"]


@dataclass
class InvalidUTF8:
    """Bytes that were not UTF-8 in one file; each was replaced by U+FFFD."""

    file: str
    count: int = 0
    first: list[dict[str, int]] = field(default_factory=list)  # {"line", "byte"} of the first few


@dataclass
class _Block:
    doc: int
    text: str
    nbytes: int


def decode_reporting(data: bytes, *, base_offset: int, base_line: int, report: InvalidUTF8) -> str:
    """Decode UTF-8, replacing each invalid byte with U+FFFD and recording where."""
    parts, pos = [], 0
    while True:
        try:
            parts.append(data[pos:].decode("utf-8"))
            return "".join(parts)
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
            parts.append(data[pos:bad].decode("utf-8"))
            parts.append("\ufffd")
            report.count += exc.end - exc.start
            if len(report.first) < 5:
                line = base_line + data.count(b"\n", 0, bad)
                report.first.append({"line": line, "byte": base_offset + bad})
            pos = pos + exc.end


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


@dataclass
class _Reader:
    text_field: str
    invalid: dict[str, InvalidUTF8] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    documents: int = 0
    bytes_read: int = 0

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        if not path.is_dir():
            raise InputError(f"{path} does not exist", hint="Pass a file or a folder of text files.")
        found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        keep = [p for p in found if p.suffix.lower() in TEXT_SUFFIXES | {".jsonl"}]
        for p in found:
            if p not in keep:
                self.skipped[str(p)] = f"not a text file suffix ({p.suffix or 'none'})"
        return keep

    def blocks(self, path: Path) -> Iterator[_Block]:
        for file in self.files(path):
            report = self.invalid.setdefault(str(file), InvalidUTF8(str(file)))
            with file.open("rb") as fh:
                head = fh.read(8192)
                if _is_binary(head):
                    self.skipped[str(file)] = "binary (NUL bytes in the first 8 KB)"
                    continue
                fh.seek(0)
                reader = self._jsonl if file.suffix.lower() == ".jsonl" else self._text
                yield from reader(file, fh, report)
            if not report.count:
                del self.invalid[str(file)]

    def _text(self, file: Path, fh, report: InvalidUTF8) -> Iterator[_Block]:
        doc, offset, line, rest = self.documents, 0, 1, b""
        self.documents += 1
        while True:
            chunk = fh.read(BLOCK_BYTES)
            data = rest + chunk
            if not data:
                break
            if chunk:
                cut = data.rfind(b"\n\n", len(data) // 2)
                cut = data.rfind(b"\n") if cut < 0 else cut + 1
                if cut < 0:
                    rest = data
                    continue
                data, rest = data[: cut + 1], data[cut + 1 :]
            else:
                rest = b""
            text = decode_reporting(data, base_offset=offset, base_line=line, report=report)
            offset += len(data)
            line += data.count(b"\n")
            self.bytes_read += len(data)
            yield _Block(doc, text, len(data))
            if not chunk:
                break

    def _jsonl(self, file: Path, fh, report: InvalidUTF8) -> Iterator[_Block]:
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            offset_here, offset = offset, offset + len(raw)
            self.bytes_read += len(raw)
            if not raw.strip():
                continue
            line = decode_reporting(raw, base_offset=offset_here, base_line=lineno, report=report)
            try:
                record = json.loads(line)
                text = record[self.text_field]
            except (ValueError, KeyError, TypeError) as exc:
                what = f"no field {self.text_field!r}" if isinstance(exc, KeyError | TypeError) else "invalid JSON"
                self.skipped[f"{file}:{lineno}"] = what
                continue
            if not isinstance(text, str):
                self.skipped[f"{file}:{lineno}"] = f"field {self.text_field!r} is not a string"
                continue
            doc = self.documents
            self.documents += 1
            yield _Block(doc, text, len(text.encode("utf-8")))


def script_bytes(text: str) -> np.ndarray:
    """UTF-8 bytes of ``text`` per script class (index order: SCRIPTS, then Common)."""
    out = np.zeros(len(_SCRIPT_INDEX), dtype=np.int64)
    letters = 0
    for match in _SCRIPT_RE.finditer(text):
        n = len(match.group().encode("utf-8"))
        out[_SCRIPT_INDEX[match.lastgroup]] += n
        letters += n
    out[COMMON] = len(text.encode("utf-8")) - letters
    return out


def token_scripts(tok: Tokenizer) -> np.ndarray:
    """Script class of each id: that of its first letter; Common when it has none
    (including tokens that hold only part of a multi-byte character)."""
    out = np.full(len(tok.token_bytes), COMMON, dtype=np.int8)
    for i, data in enumerate(tok.token_bytes):
        if i in tok.special_ids:
            continue
        match = _SCRIPT_RE.search(data.decode("utf-8", "ignore"))
        if match:
            out[i] = _SCRIPT_INDEX[match.lastgroup]
    return out


@dataclass
class TokenizerCorpusStats:
    """One tokenizer over a corpus."""

    name: str
    tokens: int
    bytes_per_token: float
    chars_per_token: float
    per_document: dict[str, float]
    by_script: dict[str, dict[str, float]]


@dataclass
class CorpusStats:
    """The result of :func:`corpus_stats`."""

    path: str
    documents: int
    bytes: int
    chars: int
    tokenizers: list[TokenizerCorpusStats]
    invalid_utf8: list[InvalidUTF8]
    skipped: dict[str, str]


def _distribution(counts: np.ndarray) -> dict[str, float]:
    if counts.size == 0:
        return {k: 0.0 for k in ("min", "mean", "p50", "p90", "p99", "max")}
    p50, p90, p99 = np.percentile(counts, [50, 90, 99])
    return {
        "min": float(counts.min()),
        "mean": round(float(counts.mean()), 2),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(counts.max()),
    }


def _batches(blocks: Iterator[_Block]) -> Iterator[list[_Block]]:
    batch: list[_Block] = []
    size = 0
    for block in blocks:
        batch.append(block)
        size += block.nbytes
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def corpus_stats(
    path: str | Path,
    tokenizers: Sequence[Tokenizer],
    *,
    text_field: str = "text",
    num_threads: int = 1,
    progress: Progress | None = None,
) -> CorpusStats:
    """Count tokens of every document under ``path`` with each tokenizer.

    Args:
        path: a text file, a ``.jsonl`` file, or a folder of them.
        tokenizers: loaded tokenizers.
        text_field: the JSONL field that holds the text.
        num_threads: native encoding threads per batch.
        progress: called as ``progress("bytes", bytes_done, bytes_total)`` after each batch.

    Raises:
        InputError: the path does not exist or holds no text.
    """
    path = Path(path)
    reader = _Reader(text_field)
    total = sum(f.stat().st_size for f in reader.files(path))
    reader.skipped.clear()
    tally = _Tally(tokenizers, num_threads)
    for batch in _batches(reader.blocks(path)):
        tally.add(batch)
        if progress:
            progress("bytes", reader.bytes_read, total)
    if reader.documents == 0:
        raise InputError(
            f"{path} holds no text documents",
            hint=f"Pass .txt/.md files or a .jsonl file with a {text_field!r} field (--text-field).",
        )
    results = [tally.stats(k, reader.documents) for k in range(len(tokenizers))]
    return CorpusStats(
        str(path),
        reader.documents,
        int(tally.bytes_by_script.sum()),
        tally.chars,
        results,
        list(reader.invalid.values()),
        reader.skipped,
    )


class _Tally:
    """What one pass over the corpus counts: per tokenizer, the content tokens of each document and the tokens
    of each script; the UTF-8 bytes of each script and the characters (the same for every tokenizer)."""

    def __init__(self, tokenizers: Sequence[Tokenizer], num_threads: int) -> None:
        self.tokenizers, self.num_threads = tokenizers, num_threads
        self.script_of = [token_scripts(t) for t in tokenizers]
        self.specials = [len(t.encode("", add_special_tokens=True)) for t in tokenizers]
        nscripts = len(_SCRIPT_INDEX)
        self.per_doc = [np.zeros(0, dtype=np.int64) for _ in tokenizers]
        self.tokens_by_script = [np.zeros(nscripts, dtype=np.int64) for _ in tokenizers]
        self.bytes_by_script = np.zeros(nscripts, dtype=np.int64)
        self.chars = 0

    def add(self, batch: list) -> None:
        texts = [b.text for b in batch]
        docs = np.array([b.doc for b in batch])
        self.chars += sum(len(t) for t in texts)
        for t in texts:
            self.bytes_by_script += script_bytes(t)
        for k, tok in enumerate(self.tokenizers):
            encoded = tok.encode_batch(texts, add_special_tokens=False, num_threads=self.num_threads)
            lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
            if self.per_doc[k].size <= docs.max():
                grow = np.zeros(docs.max() + 1 - self.per_doc[k].size, np.int64)
                self.per_doc[k] = np.concatenate([self.per_doc[k], grow])
            np.add.at(self.per_doc[k], docs, lengths)
            flat = np.fromiter((i for ids in encoded for i in ids), dtype=np.int64)
            self.tokens_by_script[k] += np.bincount(self.script_of[k][flat], minlength=len(_SCRIPT_INDEX))

    def stats(self, k: int, documents: int) -> TokenizerCorpusStats:
        """Tokenizer ``k``'s figures over ``documents`` documents (special tokens counted per document)."""
        counts = np.pad(self.per_doc[k], (0, documents - self.per_doc[k].size)) + self.specials[k]
        content = int(self.per_doc[k].sum())
        tokens, size = self.tokens_by_script[k], self.bytes_by_script
        names = (*SCRIPTS, "Common")
        by_script = {
            names[s]: {
                "bytes": int(size[s]),
                "tokens": int(tokens[s]),
                "bytes_per_token": round(float(size[s] / tokens[s]), 3) if tokens[s] else 0.0,
            }
            for s in range(len(_SCRIPT_INDEX))
            if size[s] or tokens[s]
        }
        return TokenizerCorpusStats(
            name=self.tokenizers[k].name,
            tokens=int(counts.sum()),
            bytes_per_token=round(int(size.sum()) / content, 4) if content else 0.0,
            chars_per_token=round(self.chars / content, 4) if content else 0.0,
            per_document=_distribution(counts),
            by_script=by_script,
        )
