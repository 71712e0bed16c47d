"""The PostgreSQL backend beside the local engine: same results (SciFact), and search speed (Wikipedia).

1. Conformance: ``evaluate_beir`` on SciFact test (300 queries) against a local collection and a
   PostgreSQL one built from the same documents: nDCG@10, MRR@10, Recall@100 per mode (keyword,
   dense, hybrid), PostgreSQL's dense both over pgvector's HNSW index and exact.
2. Speed: the first N Wikipedia passages (``benchmarks/passages.py``; their vectors come from the
   embedding cache that ``benchmarks/embed_wiki_cache.py`` fills, so nothing is embedded here),
   indexed locally and in PostgreSQL (seconds), then 300 "What is TITLE?" queries one at a time
   per mode: queries/s, p50 and p99 latency, and recall@10 of each dense index against exact
   search. Query vectors are made once beforehand, so the figures are the stores' own.

PostgreSQL 16 with pgvector 0.6 comes from the ``pgserver`` package, started here on a local socket
with its default settings (shared_buffers 128 MB), on the same two cores as everything else.

Usage: python benchmarks/postgres_backend.py [--stages conformance,speed] [--passages 55000]
           [--encoder MODEL]   (sentence-transformers/all-MiniLM-L6-v2@32 for all ~345,000 passages)
Writes benchmarks/results/postgres_backend.json (a key per passage count and encoder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from passages import SCIFACT, wiki_passages
from provenance import write_result
from textlens.config import DEFAULT_ENCODER
from textlens.corpus import read_documents
from textlens.evaluate.runner import ModeSpec, evaluate_beir
from textlens.index import collection_exists, create_collection, open_collection

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/postgres_backend.json"
METRICS = ("ndcg@10", "mrr@10", "recall@100")


def conformance(url: str) -> dict:
    """SciFact test per mode, local vs PostgreSQL (HNSW and exact), built from the same documents."""
    docs = list(read_documents(SCIFACT, format="beir"))
    rows = {}
    for label, backend, index in (
        ("local", "local", "auto"),
        ("postgresql (hnsw)", url, "hnsw"),
        ("postgresql (exact)", url, "exact"),
    ):
        name = f"bench-scifact-{index}"
        if collection_exists(name, backend=backend):
            open_collection(name, backend=backend).delete_collection()
        start = time.perf_counter()
        with create_collection(name, backend=backend, vector_index=index) as col:
            col.add(docs)
        built = time.perf_counter() - start
        os.environ["TEXTLENS_BACKEND"] = backend
        specs = [ModeSpec("keyword"), ModeSpec("dense"), ModeSpec("hybrid")]
        report = evaluate_beir(SCIFACT, specs, split="test", collection=name, encoder=DEFAULT_ENCODER)
        rows[label] = {
            "index_seconds": round(built, 1),
            **{s.label: {m: round(report.results[s.label][m], 4) for m in METRICS} for s in specs},
            "query_seconds": report.seconds,
        }
        print(label, rows[label], flush=True)
    os.environ["TEXTLENS_BACKEND"] = "local"
    modes = ("keyword", "dense", "hybrid")
    rows["largest |difference| in nDCG@10 vs local"] = {
        label: max(abs(rows[label][m]["ndcg@10"] - rows["local"][m]["ndcg@10"]) for m in modes)
        for label in ("postgresql (hnsw)", "postgresql (exact)")
    }
    return rows


def speed(url: str, n: int, encoder: str, n_queries: int) -> dict:
    """Index the first ``n`` Wikipedia passages locally and in PostgreSQL; time queries per mode."""
    from textlens.embed import get_encoder

    docs = list(wiki_passages(n))
    titles = list(dict.fromkeys(d.title for d in docs))
    step = max(1, len(titles) // n_queries)
    queries = [f"What is {t}?" for t in titles[::step][:n_queries]]
    vectors = get_encoder(encoder).encode_queries(queries)
    out: dict = {"passages": len(docs), "encoder": encoder, "queries": len(queries), "systems": {}}
    cols = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, backend, index in (
            ("local (exact)", "local", "exact"),
            ("local (hnsw)", "local", "hnsw"),
            ("postgresql (hnsw)", url, "hnsw"),
        ):
            name = Path(tmp) / index if backend == "local" else f"bench-wiki-{n}"
            if backend != "local" and collection_exists(name, backend=backend):
                open_collection(name, backend=backend).delete_collection()
            start = time.perf_counter()
            col = create_collection(name, backend=backend, encoder=encoder, vector_index=index, embed_title=False)
            report = col.add(docs, batch_size=5000)
            info = col.info()
            cols[label] = col
            out["systems"][label] = {
                "index_seconds": round(time.perf_counter() - start, 1),
                "embedded": report.embedded,  # 0: every vector came from the cache
                "bytes": info["bytes_on_disk"],
            }
            print(label, out["systems"][label], flush=True)
        truth = [
            cols["local (exact)"].search(q, mode="dense", k=10, query_vector=v, highlight=False).ids()
            for q, v in zip(queries, vectors, strict=True)
        ]
        for label, col in cols.items():
            for mode in ("keyword", "dense", "hybrid"):
                col.search(queries[0], mode=mode, query_vector=vectors[0], highlight=False)  # warm
                times, found = [], []
                for q, v in zip(queries, vectors, strict=True):
                    t = time.perf_counter()
                    ids = col.search(q, mode=mode, k=10, query_vector=v, highlight=False).ids()
                    times.append(time.perf_counter() - t)
                    found.append(ids)
                row = {
                    "queries_per_s": round(len(times) / sum(times), 1),
                    "p50_ms": round(1000 * statistics.median(times), 2),
                    "p99_ms": round(1000 * sorted(times)[int(0.99 * (len(times) - 1))], 2),
                }
                if mode == "dense":
                    hit = [len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]
                    row["recall@10_vs_exact"] = round(statistics.mean(hit), 4)
                out["systems"][label][mode] = row
                print(label, mode, row, flush=True)
        for col in cols.values():
            col.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default="conformance,speed")
    parser.add_argument("--passages", type=int, default=55_000)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    import pgserver
    import psycopg

    result = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    with tempfile.TemporaryDirectory() as pgdata:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        url = server.get_uri()
        result["machine"] = f"{platform.processor() or platform.machine()}, 2 cores, Python {platform.python_version()}"
        for stage in args.stages.split(","):
            if stage == "conformance":
                result["conformance_scifact_test"] = conformance(url)
            elif stage == "speed":
                result.setdefault("speed", {})[f"{args.passages}@{args.encoder}"] = speed(
                    url, args.passages, args.encoder, args.queries
                )
            with psycopg.connect(url) as conn:
                result["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
                found = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
                result["pgvector"] = found and found[0]
            write_result(OUT, result)
        server.cleanup()


if __name__ == "__main__":
    main()
