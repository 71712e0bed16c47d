"""Loading what an evaluation needs: queries and relevance judgements (qrels).

Qrels formats (detected from the content): TREC (``qid 0 docid rel``), TSV with
or without the BEIR header (``query-id corpus-id score``), and JSONL
(``{"query_id", "doc_id", "relevance"}``; ``query-id``/``corpus-id``/``score`` too).
Relevance may be graded (0, 1, 2, ...). Ids are always compared as strings, so
``1`` and ``"1"`` are the same id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from textlens.errors import InputError

Qrels = dict[str, dict[str, int]]
_HEADER_WORDS = {"query-id", "query_id", "qid", "corpus-id", "doc_id", "docid", "score", "relevance"}


@dataclass
class EvalData:
    """Queries and judgements, with what was dropped and why."""

    queries: dict[str, str]
    qrels: Qrels
    problems: dict[str, int] = field(default_factory=dict)  # what -> count


def _need(path: Path, what: str) -> None:
    if not path.is_file():
        raise InputError(
            f"{what} not found: {path}", hint="A BEIR folder holds corpus.jsonl, queries.jsonl and qrels/{split}.tsv."
        )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines of a UTF-8 text file; a line that is not UTF-8 is an error naming it."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: byte {exc.start} of the line is not UTF-8", hint="Re-encode the file as UTF-8."
                ) from exc


def load_queries(path: Path) -> dict[str, str]:
    """Queries from JSONL (``_id`` or ``id``, and ``text``) or TSV (``id<TAB>text``)."""
    _need(path, "queries file")
    out: dict[str, str] = {}
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
                qid, text = row.get("_id", row.get("id")), row["text"]
                if qid is None or not isinstance(text, str):
                    raise ValueError("no _id, or a text that is not a string")
                out[str(qid)] = text
            except (ValueError, KeyError, AttributeError) as exc:
                raise InputError(
                    f"{path}:{lineno}: not a query record ({exc})", hint='Each line: {"_id": "...", "text": "..."}.'
                ) from exc
        else:
            qid, _, text = line.rstrip("\r\n").partition("\t")
            if not text:
                raise InputError(f"{path}:{lineno}: expected 'id<TAB>text'", hint="Or use JSONL.")
            out[qid] = text
    if not out:
        raise InputError(f"{path} holds no queries", hint="Check the file.")
    return out


def load_qrels(path: Path) -> Qrels:
    """Relevance judgements from TREC, TSV or JSONL (see the module doc)."""
    _need(path, "qrels file")
    qrels: Qrels = {}
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        try:
            if line.lstrip().startswith("{"):
                row = json.loads(line)
                qid = row.get("query_id", row.get("query-id", row.get("qid")))
                did = row.get("doc_id", row.get("corpus-id", row.get("docid")))
                rel = row.get("relevance", row.get("score", 1))
                if qid is None or did is None:
                    raise ValueError("no query id or no document id")
            else:
                parts = line.split()
                if lineno == 1 and {p.lower() for p in parts} & _HEADER_WORDS:
                    continue  # a header line
                if len(parts) == 4:  # TREC: qid iter docid rel
                    qid, _, did, rel = parts
                elif len(parts) == 3:
                    qid, did, rel = parts
                else:
                    raise ValueError(f"{len(parts)} columns")
            qrels.setdefault(str(qid), {})[str(did)] = int(rel)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise InputError(
                f"{path}:{lineno}: not a qrels line ({exc}): {line.strip()[:80]!r}",
                hint="Use TREC 'qid 0 docid rel', TSV 'qid docid rel' or JSONL.",
            ) from exc
    if not qrels:
        raise InputError(
            f"{path} holds no relevance judgements (empty qrels)",
            hint="Each line names a query, a relevant document and a grade.",
        )
    return qrels


def reconcile(queries: dict[str, str], qrels: Qrels, doc_ids: set[str]) -> EvalData:
    """Keep judged queries that exist; count (never silently drop) what does not."""
    problems: dict[str, int] = {}
    kept: Qrels = {}
    for qid, docs in qrels.items():
        if qid not in queries:
            key = "judged queries not in the queries file"
            problems[key] = problems.get(key, 0) + 1
            continue
        known = {d: r for d, r in docs.items() if d in doc_ids}
        missing = len(docs) - len(known)
        if missing:
            key = "judged documents not in the corpus"
            problems[key] = problems.get(key, 0) + missing
        if any(r > 0 for r in known.values()):
            kept[qid] = known
        else:
            key = "queries with no relevant document left"
            problems[key] = problems.get(key, 0) + 1
    if not kept:
        raise InputError(
            "no query is left to evaluate: " + "; ".join(f"{v} {k}" for k, v in problems.items()),
            hint="Check that qrels, queries and corpus use the same ids.",
        )
    return EvalData({q: queries[q] for q in kept}, kept, problems)


def beir_paths(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """corpus.jsonl, queries.jsonl and qrels/{split}.tsv of a BEIR folder (each must exist)."""
    corpus, queries, qrels = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"
    for path, what in ((corpus, "corpus.jsonl"), (queries, "queries.jsonl"), (qrels, f"qrels/{split}.tsv")):
        if not path.is_file():
            splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
            raise InputError(
                f"{folder} is not a complete BEIR folder: {what} is missing",
                hint=f"Splits found: {', '.join(splits) or 'none'}."
                if what.startswith("qrels")
                else "A BEIR folder holds corpus.jsonl, queries.jsonl and qrels/{split}.tsv.",
            )
    return corpus, queries, qrels
