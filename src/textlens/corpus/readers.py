"""Readers: JSONL, CSV, Parquet, text folders, BEIR folders, WikiExtractor output,
the Wikipedia Vital Articles, and Hugging Face datasets (online users).

Each reader yields :class:`Document` objects lazily (constant memory) and keeps
a :class:`ReadReport`. A malformed row is an error naming the file and line; with
``on_error="skip"`` it is skipped, counted and listed instead.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from textlens.corpus.document import Document
from textlens.corpus.images import IMAGE_SUFFIXES, image_documents
from textlens.errors import InputError

OnError = Literal["skip", "fail"]
FORMATS = ("jsonl", "csv", "parquet", "folder", "text", "images", "beir", "wikipedia", "hf")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst")


@dataclass
class FieldMap:
    """Which record fields hold the id, text, title and metadata.

    ``metadata=None`` keeps every other field as metadata.
    """

    id: str = "id"
    text: str = "text"
    title: str | None = "title"
    metadata: list[str] | None = None


@dataclass
class ReadReport:
    """What a reader did: documents read, rows skipped (with where and why)."""

    read: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)  # first 20 "file:line: why"

    def note(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.problems) < 20:
            self.problems.append(f"{where}: {why}")


class _Rows:
    """Turns raw records into Documents under a field map and error policy."""

    def __init__(self, fields: FieldMap, on_error: OnError, report: ReadReport) -> None:
        self.fields, self.on_error, self.report = fields, on_error, report

    def fail(self, where: str, why: str, hint: str) -> None:
        if self.on_error == "fail":
            raise InputError(f"{where}: {why}", hint=hint + " Or pass --on-error skip to skip such rows.")
        self.report.note(where, why)

    def document(self, record: Any, where: str, fallback_id: str) -> Document | None:
        f = self.fields
        if not isinstance(record, dict):
            self.fail(where, f"expected an object, got {type(record).__name__}", "Each row must be a JSON object.")
            return None
        text = record.get(f.text)
        if not isinstance(text, str):
            present = ", ".join(sorted(record)) or "none"
            why = f"no text field {f.text!r}" if text is None else f"field {f.text!r} is not a string"
            self.fail(where, f"{why} (fields: {present})", "Name the text field with --text-field.")
            return None
        raw_id = record.get(f.id, fallback_id)
        if raw_id is None or raw_id == "":
            self.fail(where, f"empty id field {f.id!r}", "Name the id field with --id-field.")
            return None
        title = record.get(f.title) if f.title else None
        skip = {f.id, f.text, f.title}
        keys = f.metadata if f.metadata is not None else [k for k in record if k not in skip]
        meta = {k: record[k] for k in keys if k in record and record[k] is not None}
        self.report.read += 1
        return Document(str(raw_id), text, title if isinstance(title, str) else "", meta)


def _open_binary(path: Path):
    """The file, decompressed on the fly when its name ends in ``.gz``."""
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def _jsonl(path: Path, rows: _Rows) -> Iterator[Document]:
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                rows.fail(where, f"byte {exc.start} of the line is not UTF-8", "Re-encode the file as UTF-8.")
                continue
            except ValueError as exc:
                rows.fail(where, f"invalid JSON ({exc})", "Fix the line or remove it.")
                continue
            doc = rows.document(record, where, str(lineno))
            if doc is not None:
                yield doc


def _csv(path: Path, rows: _Rows) -> Iterator[Document]:
    csv.field_size_limit(sys.maxsize)
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    with io.TextIOWrapper(_open_binary(path), encoding="utf-8", newline="", errors="strict") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            for record in reader:
                where = f"{path}:{reader.line_num}"
                if None in record:  # more cells than header columns
                    rows.fail(
                        where,
                        f"{len(record[None]) + len(reader.fieldnames or [])} cells for "
                        f"{len(reader.fieldnames or [])} columns",
                        "Quote cells that hold the delimiter.",
                    )
                    continue
                doc = rows.document(record, where, str(reader.line_num))
                if doc is not None:
                    yield doc
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not UTF-8 near line {reader.line_num} ({exc.reason})", hint="Re-encode the file as UTF-8."
            ) from exc
        except csv.Error as exc:
            raise InputError(
                f"{path}:{reader.line_num}: malformed CSV ({exc})", hint="Check quoting on that line."
            ) from exc


def _parquet(path: Path, rows: _Rows) -> Iterator[Document]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow: pip install 'textlens[search]'") from exc
    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            n += 1
            doc = rows.document(record, f"{path}: row {n}", str(n))
            if doc is not None:
                yield doc


def _folder(path: Path, rows: _Rows) -> Iterator[Document]:
    """The text and Markdown files of a folder (ids: their paths inside it), or one such file (id: its name)."""
    files = [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.is_file())
    files = [f for f in files if f == path or not f.name.startswith(".")]
    for file in files:
        rel = file.name if file == path else file.relative_to(path).as_posix()
        if file.suffix.lower() not in TEXT_SUFFIXES:
            pictures = (
                " (a picture: --format images reads a folder's pictures)"
                if file.suffix.lower() in IMAGE_SUFFIXES
                else ""
            )
            rows.report.note(rel, f"skipped: not a text file ({file.suffix or 'no suffix'}){pictures}")
            continue
        data = file.read_bytes()
        if b"\x00" in data[:8192]:
            rows.report.note(rel, "skipped: binary content (NUL bytes)")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            rows.fail(f"{file}:{line}", f"byte {exc.start} is not UTF-8", "Re-encode the file as UTF-8.")
            continue
        title = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.strip()), file.stem)
        rows.report.read += 1
        yield Document(rel, text, title, {"path": rel, "suffix": file.suffix.lower()})


def _beir(path: Path, rows: _Rows) -> Iterator[Document]:
    corpus = path / "corpus.jsonl"
    if not corpus.is_file():
        raise InputError(
            f"{path} is not a BEIR folder: corpus.jsonl is missing",
            hint="A BEIR folder holds corpus.jsonl, queries.jsonl and qrels/*.tsv.",
        )
    rows.fields = FieldMap(id="_id", text="text", title="title", metadata=[])
    yield from _jsonl(corpus, rows)


def _hf(name: str, rows: _Rows) -> Iterator[Document]:
    try:
        import datasets
    except ImportError as exc:
        raise ImportError("hf: datasets need the datasets package: pip install datasets") from exc
    repo, _, split = name.partition(":")
    for n, record in enumerate(datasets.load_dataset(repo, split=split or "train", streaming=True)):
        doc = rows.document(record, f"hf:{name} row {n}", str(n))
        if doc is not None:
            yield doc


def detect_format(path: Path) -> str:
    """Guess the reader from the path: a BEIR folder, a folder of images (no text files in it), a text folder, or
    the suffix."""
    if path.is_dir():
        if (path / "corpus.jsonl").is_file():
            return "beir"
        return "images" if is_image_folder(path) else "folder"
    if is_image_folder(path):
        return "images"
    suffix = path.suffix.lower()
    if suffix == ".gz":  # data.jsonl.gz reads as data.jsonl
        suffix = Path(path.stem).suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    if suffix in TEXT_SUFFIXES:
        return "text"
    raise InputError(
        f"{path}: cannot tell the format from the suffix {suffix or '(none)'}",
        hint=f"Pass --format, one of {', '.join(FORMATS)}.",
    )


def is_image_folder(path: Path) -> bool:
    """A folder that holds images and no text files (read as images unless a format is given), or an image."""
    if not path.is_dir():
        return path.suffix.lower() in IMAGE_SUFFIXES
    suffixes = {f.suffix.lower() for f in path.rglob("*")}
    return not suffixes & set(TEXT_SUFFIXES) and bool(suffixes & set(IMAGE_SUFFIXES))


def read_documents(
    source: str | Path,
    *,
    format: str | None = None,
    fields: FieldMap | None = None,
    on_error: OnError = "fail",
    report: ReadReport | None = None,
    captions: str | Path | None = None,
) -> Iterator[Document]:
    """Read documents from a file, folder, ``wikipedia`` or ``hf:NAME[:SPLIT]``.

    Args:
        source: path; ``"wikipedia"`` for the Vital Articles; ``"hf:ORG/NAME"`` (online).
        format: one of :data:`FORMATS`; guessed from the path when ``None``.
        fields: field names for id, text, title and metadata.
        on_error: ``"fail"`` raises at the first malformed row; ``"skip"`` counts it.
        report: filled with counts and problems as documents are read.
        captions: images only: a JSONL whose rows name an image (``file_name``, ``image``, ``file`` or
            ``path``) and give its text (the ``fields.text`` field) and metadata; default: the folder's
            ``metadata.jsonl`` if it has one. See :func:`textlens.corpus.images.image_documents`.
    """
    report = report if report is not None else ReadReport()
    rows = _Rows(fields or FieldMap(), on_error, report)
    text = str(source)
    if format == "hf" or text.startswith("hf:"):
        return _hf(text.removeprefix("hf:"), rows)
    if format == "wikipedia" or text == "wikipedia":
        from textlens.corpus.wikipedia import vital_articles

        rows.fields = FieldMap(id="id", text="text", title="title", metadata=["description", "topic"])
        return (d for r in vital_articles() if (d := rows.document(r, "wikipedia", r["id"])) is not None)
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path} does not exist", hint="Pass a file, a folder, 'wikipedia' or hf:ORG/NAME.")
    fmt = format or detect_format(path)
    if fmt == "images":
        text_field = rows.fields.text
        return image_documents(
            path, captions=Path(captions) if captions else None, text_field=text_field, report=report
        )
    if captions is not None:
        raise InputError(
            "captions are read with a folder of images only", hint="Drop --captions, or pass --format images."
        )
    readers = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet, "folder": _folder, "text": _folder, "beir": _beir}
    if fmt not in readers:
        raise InputError(f"unknown format {fmt!r}", hint=f"Formats: {', '.join(FORMATS)}.")
    return _damaged_file_errors(path, readers[fmt](path, rows))


def _damaged_file_errors(path: Path, docs: Iterator[Document]) -> Iterator[Document]:
    """Turn a damaged container (a truncated or non-gzip ``.gz``, a file that is not Parquet) into an
    :class:`InputError` naming the file; the documents read before it stay read."""
    import zlib

    try:
        yield from docs
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{path}: the compressed file is damaged or not gzip ({exc})", hint="Check the file, or decompress it."
        ) from exc
    except _arrow_errors() as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})", hint="Check the file.") from exc


def _arrow_errors() -> tuple[type[BaseException], ...]:
    try:
        import pyarrow
    except ImportError:
        return ()
    return (pyarrow.ArrowException,)


def batched(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Group documents into lists of ``size``."""
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
