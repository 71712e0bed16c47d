"""Where evaluation time goes: SciFact test queries at evaluation depth (k=101, 100 candidates per
retriever), per mode, with and without highlighting (evaluation turns it off; it used to compute
highlights for every one of the 100 hits of every query).

Usage: python benchmarks/eval_query_time.py  (needs the beir-scifact collection: textlens eval builds it)
Writes ``benchmarks/results/eval_query_time.json``.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import textlens
from passages import SCIFACT
from provenance import write_result
from textlens.evaluate import load_qrels, load_queries
from textlens.index import open_collection

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    queries = load_queries(SCIFACT / "queries.jsonl")
    test = [queries[q] for q in load_qrels(SCIFACT / "qrels/test.tsv")]
    rows = []
    with open_collection("beir-scifact") as col:
        col.search("warm up", mode="hybrid")
        for mode in ("keyword", "dense", "hybrid"):
            for highlight in (True, False):
                start = time.perf_counter()
                for q in test:
                    col.search(q, mode=mode, k=101, candidates=100, highlight=highlight)
                seconds = time.perf_counter() - start
                row = {
                    "mode": mode,
                    "highlight": highlight,
                    "queries": len(test),
                    "ms_per_query": round(1000 * seconds / len(test), 2),
                    "queries_per_s": round(len(test) / seconds, 1),
                }
                print(row, flush=True)
                rows.append(row)
    out = {
        "benchmark": "eval_query_time",
        "textlens": textlens.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "collection": "beir-scifact (5,183 documents, all-MiniLM-L6-v2), test queries, k=101",
        "results": rows,
    }
    write_result((ROOT / "benchmarks/results/eval_query_time.json"), out)


if __name__ == "__main__":
    main()
