"""The demo's two questions, asked as `make demo` asks them: the Wikipedia Vital Articles collection (built as the
demo builds it, if it is not there), the default model, and for each question what the user is shown (the answer
with its citation and claim marks, or the decline and its reason), the claims checked and the seconds it took.

Usage: python benchmarks/demo_answers.py [--model qwen2.5-coder-1.5b]
Writes ``benchmarks/results/demo_answers.json``.
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

from provenance import write_result
from textlens import Collection, read_documents
from textlens.cli.demo import COLLECTION, QUESTIONS
from textlens.index import CollectionError
from textlens.llm import get_generator

OUT = Path(__file__).resolve().parent / "results" / "demo_answers.json"


def collection(limit: int | None) -> Collection:
    try:
        col = Collection.open(COLLECTION)
        if len(col):
            return col
        col.delete_collection()
    except CollectionError:
        pass
    col = Collection.create(COLLECTION)
    col.add(islice(read_documents("wikipedia"), limit))
    return col


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--limit", type=int, default=None, help="index only the first N articles (a quick look)")
    args = parser.parse_args()
    generator = get_generator(args.model)
    rows = []
    with collection(args.limit) as col:
        for question in QUESTIONS:
            answer = col.ask(question, llm=generator)
            rows.append(
                {
                    "question": question,
                    "shown": f"Not in the sources ({answer.reason})" if answer.abstained else str(answer),
                    "abstained": answer.abstained,
                    "draft": answer.draft,
                    "claims": [
                        {"claim": c.text, "status": c.status, "passage": c.passage, "note": c.note}
                        for s in answer.sentences
                        for c in s.claims
                    ],
                    "repairs": answer.repairs,
                    "cited": [p.title for p in answer.cited()],
                    "seconds": round(answer.timings["total"], 1),
                }
            )
            print(rows[-1]["question"], "->", rows[-1]["shown"], f"({rows[-1]['seconds']} s)")
    write_result(OUT, {"benchmark": "demo_answers", "model": args.model, "collection": COLLECTION, "rows": rows})


if __name__ == "__main__":
    main()
