"""The one way tests find ``../shared`` (data and tokenizer files that are never copied into the repo).

``TEXTLENS_TEST_SHARED`` overrides the place. A test whose file is missing skips with the path it
looked for; under CI (``CI`` set) the conftest turns every skip into a failure, so nothing is
skipped silently there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_TEST_SHARED", ROOT.parent / "shared"))


def shared(relpath: str) -> Path:
    """``SHARED / relpath``, or skip the test saying where it looked."""
    path = SHARED / relpath
    if not path.exists():
        pytest.skip(f"{path} not found (the shared data beside the repository; set TEXTLENS_TEST_SHARED)")
    return path


def scifact_slice(out: Path, queries: int = 20, others: int = 60) -> Path:
    """A BEIR folder at ``out`` of the first ``queries`` SciFact training queries, their judged documents and
    ``others`` more (texts cut at 600 characters): training runs in seconds on it."""
    source = shared("data/beir/scifact")
    out.mkdir(parents=True, exist_ok=True)
    lines = (source / "qrels/train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    qrels = [line.split("\t") for line in lines]
    qids = list(dict.fromkeys(q for q, _, _ in qrels))[:queries]
    judged = {d for q, d, _ in qrels if q in qids}
    docs, added = [], 0
    with (source / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            if doc["_id"] in judged or added < others:
                added += doc["_id"] not in judged
                doc["text"] = doc["text"][:600]
                docs.append(doc)
    (out / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    rows = [json.loads(x) for x in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    keep = [q for q in rows if q["_id"] in qids]
    (out / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in keep), encoding="utf-8")
    (out / "qrels").mkdir(exist_ok=True)
    judged_rows = ["query-id\tcorpus-id\tscore"] + ["\t".join(r) for r in qrels if r[0] in qids]
    (out / "qrels/train.tsv").write_text("\n".join(judged_rows) + "\n", encoding="utf-8")
    return out
