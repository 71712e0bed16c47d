"""Dense retrieval: encoding speed, vector search (exact vs ANN vs quantised), indexing memory.

1. Encoding passages/s: textlens ``Encoder.encode`` vs a plain ``SentenceTransformer.encode``
   of the same Wikipedia passages (all-MiniLM-L6-v2, CPU).
2. Vector search over the Wikipedia passages whose vectors are in the embedding cache
   (``benchmarks/embed_wiki_cache.py`` fills it; all ~345,000 take this CPU hours):
   queries/s (one query at a time), recall@10 against exact search, build time and
   bytes per vector for exact, HNSW, int8 and binary (both rescored with float32).
3. Indexing those passages into a collection in a child process: peak RSS (VmHWM),
   wall time and size on disk (vectors come from the cache, so this is the cost of
   the collection itself: SQLite, tantivy, vector segments).

Writes ``benchmarks/results/search_vectors.json``.
Usage: python benchmarks/search_vectors.py [--encode 1000] [--max-vectors N]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import textlens
from passages import plain_sentence_transformer, wiki_passages
from provenance import write_result
from textlens.embed import EmbeddingCache, get_encoder
from textlens.embed.cache import text_key
from textlens.index.local.vectors import VectorStore, bytes_per_vector

ROOT = Path(__file__).resolve().parents[1]


def encode_speed(n: int) -> dict:
    encoder, plain_model = get_encoder(), plain_sentence_transformer()
    texts = [d.text for d in wiki_passages(n)]
    rng = random.Random(0)
    rng.shuffle(texts)
    plain_model.encode(texts[:64], batch_size=64)  # warm up
    encoder.encode(texts[:64])
    t0 = time.perf_counter()
    plain = plain_model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = encoder.encode(texts, batch_size=64)
    t_ours = time.perf_counter() - t0
    assert np.allclose(plain, ours, atol=1e-5)
    row = {
        "passages": n,
        "textlens_backend": type(encoder).__name__,
        "sentence_transformers_per_s": round(n / t_plain, 1),
        "textlens_per_s": round(n / t_ours, 1),
        "textlens_vs_plain": round(t_plain / t_ours, 3),
    }
    print(row, flush=True)
    return row


def cached_vectors(limit: int | None, model: str) -> tuple[np.ndarray, int]:
    """The longest prefix of the Wikipedia passages whose vectors (by ``model``) are cached."""
    encoder, cache = get_encoder(model), EmbeddingCache()
    out: list[np.ndarray] = []
    keys = [text_key(doc.text) for doc in wiki_passages(limit)]
    for start in range(0, len(keys), 10_000):
        batch = keys[start : start + 10_000]
        found = cache.get_many(encoder.fingerprint, batch)
        for key in batch:
            if key not in found:
                return np.stack(out), len(out)
            out.append(found[key])
    return np.stack(out), len(out)


def vector_search(vectors: np.ndarray, n_queries: int, model: str) -> list[dict]:
    encoder = get_encoder(model)
    titles = sorted({d.title for d in wiki_passages(len(vectors))})
    random.Random(0).shuffle(titles)
    queries = encoder.encode_queries([f"What is {t}?" for t in titles[:n_queries]])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        seed = VectorStore(Path(tmp), vectors.shape[1], kind="exact")
        seed.write_segment("seg", np.arange(len(vectors)), vectors)
        truth = None
        for kind in ("exact", "hnsw", "int8", "binary"):
            store = VectorStore(Path(tmp), vectors.shape[1], kind=kind)
            store.load(["seg"])
            t0 = time.perf_counter()
            store.search(queries[0], 10)  # builds the ANN index on first use
            t_build = time.perf_counter() - t0
            t0 = time.perf_counter()
            found = [[key for key, _ in store.search(q, 10)] for q in queries]
            t_query = time.perf_counter() - t0
            if truth is None:
                truth = found
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]))
            row = {
                "index": kind,
                "vectors": len(vectors),
                "dim": vectors.shape[1],
                "build_s": round(t_build, 2),
                "queries_per_s": round(len(queries) / t_query, 1),
                "recall@10_vs_exact": round(recall, 4),
                "bytes_per_vector": bytes_per_vector(kind, vectors.shape[1]),
            }
            print(row, flush=True)
            rows.append(row)
    exact_qps = rows[0]["queries_per_s"]
    for row in rows:
        row["speedup_vs_exact"] = round(row["queries_per_s"] / exact_qps, 2)
    return rows


CHILD = """
import json, re, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from passages import plain_sentence_transformer, wiki_passages
from textlens.index import create_collection
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    col = create_collection(Path(tmp) / "wiki", encoder=sys.argv[3], embed_title=False)  # cache: passage texts
    report = col.add(wiki_passages(int(sys.argv[1])), batch_size=20_000)
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in col.path.rglob("*") if f.is_file())
    parts = {p: sum(f.stat().st_size for f in (col.path / p).rglob("*") if f.is_file()) for p in ("keyword", "vectors")}
    parts["docs.sqlite"] = size - sum(parts.values())
    hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
    print(json.dumps({"passages": len(col), "seconds": round(seconds, 1), "embedded": report.embedded,
                      "from_cache": report.cache_hits, "peak_rss_mb": round(hwm / 1024),
                      "disk_mb": round(size / 2**20),
                      "disk_mb_by_part": {k: round(v / 2**20) for k, v in parts.items()}}))
"""


def index_memory(n: int, model: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(Path(__file__).parent), model],
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encode", type=int, default=1000)
    parser.add_argument("--max-vectors", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--only-encoding", action="store_true", help="measure encoding speed and stop")
    parser.add_argument(
        "--encoder",
        default="sentence-transformers/all-MiniLM-L6-v2",
        help="the model whose cached passage vectors are searched (MODEL@N: cut at N tokens)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/search_vectors.json")
    args = parser.parse_args()
    result = {
        "benchmark": "search_vectors",
        "textlens": textlens.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "model": "sentence-transformers/all-MiniLM-L6-v2",
    }
    result["encoding"] = encode_speed(args.encode)
    if args.only_encoding:
        write_result(args.out, result)
        return
    vectors, n = cached_vectors(args.max_vectors, args.encoder)
    print(f"{n:,} cached passage vectors", flush=True)
    result["vector_model"] = args.encoder
    result["vector_search"] = vector_search(vectors, args.queries, args.encoder)
    del vectors
    result["indexing"] = index_memory(n, args.encoder)
    write_result(args.out, result)


if __name__ == "__main__":
    main()
