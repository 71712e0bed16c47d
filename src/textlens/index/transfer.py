"""Move a collection between backends (this machine's folders, PostgreSQL) through one JSONL file.

``export_collection`` writes a header line, then one line a document (id, text, title, metadata,
parent, and its vector as base64 float32); ``import_collection`` builds a collection from such a
file. Both resume: an export run again on the same file writes only the documents it lacks (a
line cut short by a crash is dropped first), and an import adds only the ids the collection does
not hold yet, one transaction a batch, so nothing is written twice. Vectors travel with the file:
the importer seeds its embedding cache with them (when its encoder has the same weights, checked
by fingerprint) and the collection takes them from there, so nothing is embedded again.

File format (version 1)::

    {"textlens_export": 1, "collection": NAME, "language": ..., "embed_title": ..., "encoder": {...}}
    {"id": ..., "text": ..., "title": ..., "metadata": {...}, "parent": ..., "vector": "BASE64"}
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.jsonl import json_lines
from textlens.progress import Progress

EXPORT_FORMAT = 1
BATCH = 1000


def export_collection(
    name: str | Path,
    path: str | Path,
    *,
    backend: str | None = None,
    vectors: bool = True,
    batch_size: int = BATCH,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write collection ``name`` to the JSONL file ``path`` (resuming a file this export began)."""
    from textlens.embed.cache import EmbeddingCache, embed_with_cache
    from textlens.index import open_collection

    path = Path(path)
    start = time.perf_counter()
    with open_collection(name, backend=backend) as col:
        enc = col.manifest.get("encoder") if vectors else None
        header = {
            "textlens_export": EXPORT_FORMAT,
            "collection": col.name,
            "language": col.manifest["language"],
            "embed_title": col.manifest.get("embed_title", True),
            "encoder": enc and {**enc, "fingerprint": col.encoder.fingerprint},
        }
        done = _resume_export(path, header) if path.exists() else set()
        docs = [d for d in col.documents() if d.id not in done]
        cache = EmbeddingCache() if enc else None
        written = 0
        with path.open("a", encoding="utf-8") as fh:
            if not done:
                fh.write(json.dumps(header, ensure_ascii=False) + "\n")
            for first in range(0, len(docs), batch_size):
                batch = docs[first : first + batch_size]
                vecs = embed_with_cache(col.encoder, [col.embedded_text(d) for d in batch], cache) if enc else None
                for i, d in enumerate(batch):
                    row = {"id": d.id, "text": d.text, "title": d.title, "metadata": d.metadata, "parent": d.parent}
                    if vecs is not None:
                        row["vector"] = base64.b64encode(vecs[i].astype("<f4").tobytes()).decode("ascii")
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())  # a batch is on disk before the next one starts
                written += len(batch)
                if progress:
                    progress("exported", written, len(docs))
        if cache is not None:
            cache.close()
    return {
        "collection": header["collection"],
        "file": str(path),
        "written": written,
        "already_there": len(done),
        "vectors": bool(enc),
        "seconds": round(time.perf_counter() - start, 2),
    }


def _resume_export(path: Path, header: dict[str, Any]) -> set[str]:
    """The ids an earlier export of the same collection wrote to ``path`` (a cut last line dropped)."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        return set()
    number, row = first
    if row.get("textlens_export") is None or {k: row.get(k) for k in header} != header:
        raise InputError(
            f"{path} holds something else than an export of collection {header['collection']!r} "
            f"(line {number}: {json.dumps(row)[:120]})",
            hint="Give a new file name, or delete the file to export again from the start.",
        )
    return {str(r["id"]) for _, r in lines}


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each complete line; a last line without its newline is cut off first."""
    with path.open("r+b") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size:
            fh.seek(max(0, size - 1))
            if fh.read(1) != b"\n":  # find the last newline and drop what follows it
                fh.seek(0)
                raw = fh.read()
                fh.truncate(raw.rfind(b"\n") + 1)
    with path.open(encoding="utf-8") as fh:
        hint = "The file is damaged here; export the collection again into a new file."
        for number, row in json_lines(fh, path, hint):
            if not isinstance(row, dict):
                raise InputError(f"{path}, line {number}: not a JSON object", hint="Export the collection again.")
            yield number, row


def import_collection(
    path: str | Path,
    name: str | Path | None = None,
    *,
    backend: str | None = None,
    vector_index: str = "auto",
    reembed: bool = False,
    batch_size: int = BATCH,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build collection ``name`` (default: the exported one's name) from an export file, or add to it
    what it lacks. ``reembed`` embeds the texts again instead of taking the file's vectors."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no export file {path}", hint="Write one with: textlens collections export NAME FILE")
    start = time.perf_counter()
    lines = _lines(path)
    header = _header(path, next(lines, None))
    enc = header["encoder"]
    col, have = _target(name or header["collection"], header, backend=backend, vector_index=vector_index)
    with col:
        use_vectors = bool(enc) and not reembed
        if use_vectors and col.encoder.fingerprint != enc["fingerprint"]:
            raise InputError(
                f"the vectors in {path} come from other weights of {enc['name']} than this machine's "
                f"(fingerprint {enc['fingerprint'][:12]}... here {col.encoder.fingerprint[:12]}...)",
                hint="Import with --reembed (the texts are embedded again here), or install the same model.",
            )
        added, skipped, embedded = _write(col, path, lines, have, enc if use_vectors else None, batch_size, progress)
        return {
            "collection": col.name,
            "backend": col.info().get("backend", "local"),
            "added": added,
            "already_there": skipped,
            "documents": len(col),
            "vectors_from_file": use_vectors,
            "embedded": embedded,
            "seconds": round(time.perf_counter() - start, 2),
        }


def _target(name: str | Path, header: dict[str, Any], *, backend: str | None, vector_index: str):
    """The collection to import into, opened (and the ids it has) or made as the export describes it."""
    from textlens.index import collection_exists, create_collection, open_collection

    enc = header["encoder"]
    if collection_exists(name, backend=backend):
        col = open_collection(name, backend=backend, encoder=enc["name"] if enc else None)
        return col, col.stored_ids()
    col = create_collection(
        name,
        backend=backend,
        encoder=enc["name"] if enc else None,
        language=header["language"],
        vector_index=vector_index,
        embed_title=header["embed_title"],
    )
    return col, set()


def _write(col, path: Path, lines, have: set[str], enc: dict[str, Any] | None, batch_size: int, progress):
    """Add the file's documents the collection lacks, a transaction a batch; with ``enc`` (the file's vectors
    are usable) the vectors seed the embedding cache first, so nothing is embedded again. Returns the counts
    added, skipped (already there) and embedded."""
    from textlens.embed.cache import EmbeddingCache, text_key

    cache = EmbeddingCache() if enc else None
    added = skipped = embedded = 0
    batch: list[Document] = []
    seeds: list[tuple[bytes, np.ndarray]] = []

    def flush() -> None:
        nonlocal added, embedded, batch, seeds
        if cache is not None and seeds:
            cache.put_many(col.encoder.fingerprint, seeds)
        if batch:
            embedded += col.add(batch, batch_size=len(batch)).embedded
            added += len(batch)
            if progress:
                progress("imported", added, 0)
        batch, seeds = [], []

    for number, row in lines:
        doc = _document(path, number, row)
        if doc.id in have:
            skipped += 1
            continue
        batch.append(doc)
        if cache is not None:
            seeds.append((text_key(col.embedded_text(doc)), _vector(path, number, row, enc["dim"])))
        if len(batch) >= batch_size:
            flush()
    flush()
    if cache is not None:
        cache.close()
    return added, skipped, embedded


def _header(path: Path, first: tuple[int, dict[str, Any]] | None) -> dict[str, Any]:
    if first is None or "textlens_export" not in first[1]:
        raise InputError(
            f"{path}, line 1: not a textlens export (its first line must be the export header)",
            hint="Write the file with: textlens collections export NAME FILE",
        )
    header = first[1]
    if header["textlens_export"] != EXPORT_FORMAT:
        raise InputError(
            f"{path}: export format {header['textlens_export']}; this textlens reads format {EXPORT_FORMAT}",
            hint="Import it with the textlens version that wrote it, or export again with this one.",
        )
    return header


def _document(path: Path, number: int, row: dict[str, Any]) -> Document:
    for field in ("id", "text"):
        if not isinstance(row.get(field), str):
            raise InputError(
                f"{path}, line {number}: field {field!r} is missing or not text",
                hint="The file is damaged here; export the collection again into a new file.",
            )
    return Document(row["id"], row["text"], row.get("title") or "", row.get("metadata") or {}, row.get("parent"))


def _vector(path: Path, number: int, row: dict[str, Any], dim: int) -> np.ndarray:
    try:
        vec = np.frombuffer(base64.b64decode(row["vector"], validate=True), dtype="<f4")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{path}, line {number}: field 'vector' is missing or not base64 ({exc})",
            hint="Import with --reembed to embed the texts again, or export the collection again.",
        ) from None
    if vec.shape != (dim,):
        raise InputError(
            f"{path}, line {number}: a vector of {vec.shape[0]} numbers; the header's encoder has {dim}",
            hint="Import with --reembed, or export the collection again.",
        )
    return vec
