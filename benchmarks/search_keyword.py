"""BM25 keyword search: textlens (tantivy) vs bm25s, side by side in one run.

On BEIR SciFact (5,183 documents, 300 test queries) and on the ~345,000
paragraphs of 10,000 Wikipedia articles (queries: the titles of 1,000 articles).
Measures indexing documents/s (tokenising included; textlens also writes its
SQLite document store), single-thread queries/s, and on SciFact nDCG@10.
textlens is measured twice: the BM25 top-10 keys alone (what bm25s returns) and
the full ``Collection.search`` (documents fetched, terms highlighted), both with
the default title boost.

Writes ``benchmarks/results/search_keyword.json``.
Usage: python benchmarks/search_keyword.py [--wiki-limit N]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import random
import tempfile
import time
from pathlib import Path

import bm25s
import Stemmer

import textlens
from passages import SCIFACT, scifact, wiki_passages
from provenance import write_result
from textlens.index import create_collection
from textlens.index.analysis import TITLE_BOOST

ROOT = Path(__file__).resolve().parents[1]


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sum(r / math.log2(i + 2) for i, r in enumerate(sorted(rel.values(), reverse=True)[:10]))
    return dcg / ideal if ideal else 0.0


def run(name: str, docs, queries: list[str], qrels: list[dict[str, int]] | None) -> list[dict]:
    texts = [f"{d.title}\n{d.text}" if d.title else d.text for d in docs]
    ids = [d.id for d in docs]
    rows = []
    # bm25s: tokenise (stop words + Snowball English stemmer, as textlens) and index in memory
    stemmer = Stemmer.Stemmer("english")
    gc.collect()
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(tokens, show_progress=False)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = []
    for q in queries:  # one query at a time, one thread
        qt = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        docs_idx, _ = retriever.retrieve(qt, k=10, n_threads=1, show_progress=False)
        results.append([ids[i] for i in docs_idx[0]])
    t_query = time.perf_counter() - t0
    rows.append(_row(name, "bm25s (k1=0.9, b=0.4)", len(docs), t_index, len(queries), t_query, results, qrels))
    del retriever, tokens
    # textlens: a keyword-only collection on disk
    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        t0 = time.perf_counter()
        col = create_collection(Path(tmp) / "c", encoder=None)
        col.add(docs, batch_size=20_000)
        t_index = time.perf_counter() - t0
        key_to_id = {k: r["id"] for k, r in col.store.rows(col.store.live_keys()).items()}
        t0 = time.perf_counter()
        boost = TITLE_BOOST  # what Collection.search uses by default
        results = [[key_to_id[h.key] for h in col.keyword.search(q, 10, title_boost=boost)] for q in queries]
        t_query = time.perf_counter() - t0
        rows.append(
            _row(name, "textlens BM25 top-10 keys (tantivy)", len(docs), t_index, len(queries), t_query, results, qrels)
        )
        for label, highlight in (("docs + highlights", True), ("docs, highlight=False", False)):
            t0 = time.perf_counter()
            results = [col.search(q, mode="keyword", k=10, highlight=highlight).ids() for q in queries]
            t_query = time.perf_counter() - t0
            system = f"textlens Collection.search ({label})"
            rows.append(_row(name, system, len(docs), t_index, len(queries), t_query, results, qrels))
        col.close()
    return rows


def _row(dataset, system, n_docs, t_index, n_queries, t_query, results, qrels) -> dict:
    row = {
        "dataset": dataset,
        "system": system,
        "documents": n_docs,
        "index_s": round(t_index, 2),
        "index_docs_per_s": round(n_docs / t_index),
        "queries": n_queries,
        "queries_per_s": round(n_queries / t_query, 1),
    }
    if qrels is not None:
        row["ndcg@10"] = round(sum(ndcg10(r, q) for r, q in zip(results, qrels, strict=True)) / len(qrels), 4)
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wiki-limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/search_keyword.json")
    args = parser.parse_args()
    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = {}
    for line in (SCIFACT / "qrels/test.tsv").read_text().splitlines()[1:]:
        q, d, s = line.split("\t")
        qrels.setdefault(q, {})[d] = int(s)
    rows = run("scifact", scifact(), [queries[q] for q in qrels], list(qrels.values()))
    wiki = list(wiki_passages(args.wiki_limit))
    titles = sorted({d.title for d in wiki})
    random.Random(0).shuffle(titles)
    rows += run(f"wikipedia-{len(wiki)}-passages", wiki, titles[:1000], None)
    out = {
        "benchmark": "search_keyword",
        "textlens": textlens.__version__,
        "bm25s": bm25s.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "results": rows,
    }
    write_result(args.out, out)
    print("\n| dataset | system | docs | index docs/s | queries/s | nDCG@10 |\n|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['system']} | {r['documents']:,} | {r['index_docs_per_s']:,} | "
            f"{r['queries_per_s']:,} | {r.get('ndcg@10', '')} |"
        )


if __name__ == "__main__":
    main()
