"""Reliability figures: crashes at random points of every write path, and searches during writes.

1. SIGKILL: a child process runs one write path on a collection with vectors
   (all-MiniLM-L6-v2; texts come from the embedding cache after the first run) and
   is killed at a random moment. Paths: ``add`` (5 batches of new documents),
   ``upsert`` (5 batches replacing documents), ``delete`` (5 batches of ids) and
   ``compact`` (12 small adds, with at most 2 segments kept, so the vector segments are
   merged in every add from the third on).
   Each trial then checks that the collection opens, holds exactly the documents of
   the last committed batch or the one after it (it may have committed before the
   kill without saying so), that every keyword query matches the same documents as
   a rebuild from those documents, that dense search returns the same ranking and
   scores as the rebuild, and that the next write works and leaves nothing stale.
2. Snapshots: a writer upserts all documents to a new version in one batch, again
   and again, while reader threads (sharing the writer's ``CollectionBase``) and
   reader processes search in keyword, dense and hybrid mode. A violation is a
   result that is not exactly the documents of one version.

Usage: python benchmarks/reliability.py [--trials 20] [--versions 100] [--out FILE]
Writes ``benchmarks/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import textlens
from provenance import write_result
from textlens.corpus import Document
from textlens.index import CollectionBase, create_collection, open_collection

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["planets", "tigers", "rivers", "proteins", "volcanoes", "violins", "glaciers", "bridges"]
QUERIES = ["planets orbit", "tigers hunt", "river delta", "protein folding", "volcano ash", "old violins"]


def doc(i: int, version: int = 0) -> Document:
    topic = TOPICS[i % len(TOPICS)]
    return Document(f"d{i}", f"Note {i} (v{version}) on {topic}: {topic} number {i} in version {version}.")


BASE = [doc(i) for i in range(60)]


def scenario(name: str) -> list[tuple[str, list]]:
    """The operations of a write path, one committed batch each."""
    if name == "add":
        return [("add", [doc(i) for i in range(60 + 20 * b, 80 + 20 * b)]) for b in range(5)]
    if name == "upsert":
        return [("upsert", [doc(i, 1) for i in range(12 * b, 12 * b + 12)]) for b in range(5)]
    if name == "delete":
        return [("delete", [f"d{i}" for i in range(10 * b, 10 * b + 10)]) for b in range(5)]
    if name == "compact":
        return [("add", [doc(i) for i in range(60 + 4 * b, 64 + 4 * b)]) for b in range(12)]
    raise ValueError(name)


def states(name: str) -> list[dict[str, str]]:
    """``states[j]``: id -> text after the first ``j`` operations committed."""
    state = {d.id: d.text for d in BASE}
    out = [dict(state)]
    for op, items in scenario(name):
        if op in ("add", "upsert"):
            state.update({d.id: d.text for d in items})
        else:
            for i in items:
                state.pop(i, None)
        out.append(dict(state))
    return out


CHILD = """
import sys
sys.path.insert(0, {bench!r})
from reliability import scenario
import textlens.index.local.collection as collection
from textlens.index import open_collection
if sys.argv[2] == "compact":
    collection.MAX_SEGMENTS = 2  # every add from the third on merges the vector segments
col = open_collection(sys.argv[1])
col.encoder  # load the model before saying ready
print("ready", flush=True)
for op, items in scenario(sys.argv[2]):
    if op == "delete":
        col.delete(items)
    else:
        getattr(col, op)(items)
    print("committed", flush=True)
"""


def run_child(path: Path, name: str, kill_after: float | None) -> tuple[int, bool, float]:
    """Run a write path; kill it ``kill_after`` seconds after it is ready.

    Returns (batches reported, killed, seconds from ready to the last batch reported)."""
    code = CHILD.format(bench=str(ROOT / "benchmarks"))
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    ready = time.perf_counter()
    lines: list[tuple[float, str]] = []

    def read() -> None:
        for line in iter(proc.stdout.readline, ""):
            lines.append((time.perf_counter() - ready, line.strip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    if kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed = True
    proc.wait()
    reader.join(5)
    committed = [t for t, line in lines if line == "committed"]
    return len(committed), killed, committed[-1] if committed else 0.0


def ranked(col: CollectionBase, query: str, mode: str) -> list[tuple[str, float]]:
    return [(h.doc_id, h.score) for h in col.search(query, mode=mode, k=200, highlight=False)]


def check_trial(path: Path, name: str, reported: int, rebuilds: dict[int, Path]) -> dict:
    """The invariants after a kill; returns what was found."""
    expected = states(name)
    with open_collection(path) as col:
        held = {d.id: d.text for d in col.documents()}
        candidates = [j for j in (reported, reported + 1) if j < len(expected) and expected[j] == held]
        if not candidates:
            return {"ok": False, "why": f"holds {len(held)} docs, matching no committed state near {reported}"}
        j = candidates[0]
        ref = rebuilds[j]
        with open_collection(ref) as reb:
            for q in QUERIES:
                if {i for i, _ in ranked(col, q, "keyword")} != {i for i, _ in ranked(reb, q, "keyword")}:
                    return {"ok": False, "why": f"keyword matches differ from a rebuild for {q!r}"}
                got, want = ranked(col, q, "dense"), ranked(reb, q, "dense")
                if [i for i, _ in got] != [i for i, _ in want] or any(
                    abs(a - b) > 1e-5 for (_, a), (_, b) in zip(got, want, strict=True)
                ):
                    return {"ok": False, "why": f"dense ranking differs from a rebuild for {q!r}"}
        col.add([Document("after-crash", "written after the crash about planets")])
        if col.search("after crash", mode="keyword", k=1).ids() != ["after-crash"]:
            return {"ok": False, "why": "the next write is not searchable"}
        if col.keyword.num_docs() != len(col):
            return {"ok": False, "why": f"keyword index holds {col.keyword.num_docs()} docs, the store {len(col)}"}
    return {"ok": True, "state": j}


def sigkill_trials(name: str, trials: int, work: Path, base: Path, rng: random.Random) -> dict:
    # how long the writes take when not killed (ready to last commit): kill times are drawn from that span
    calib = work / f"{name}-calibration"
    shutil.copytree(base, calib)
    span = run_child(calib, name, None)[2]
    rebuilds = {}
    for j, state in enumerate(states(name)):
        rebuilds[j] = work / f"{name}-rebuild-{j}"
        with create_collection(rebuilds[j]) as col:
            col.add([Document(i, t) for i, t in state.items()])
    outcomes = []
    for t in range(trials):
        path = work / f"{name}-{t}"
        shutil.copytree(base, path)
        reported, killed, _ = run_child(path, name, rng.uniform(0, span))
        result = check_trial(path, name, reported, rebuilds)
        outcomes.append({"killed": killed, "reported": reported, **result})
        shutil.rmtree(path)
    ok = sum(o["ok"] for o in outcomes)
    row = {
        "path": name,
        "trials": trials,
        "killed_mid_run": sum(o["killed"] for o in outcomes),
        "passed": ok,
        "failures": [o for o in outcomes if not o["ok"]],
        "batches": len(scenario(name)),
        "states_seen": sorted({o.get("state") for o in outcomes if o["ok"]}),
        "path_seconds": round(span, 2),
    }
    print({k: v for k, v in row.items() if k != "failures"}, flush=True)
    return row


# -- snapshots during writes --------------------------------------------------------------------------------

N_SNAP = 40
MODES = ("keyword", "dense", "hybrid")


def snap_doc(i: int, version: int) -> Document:
    return Document(f"s{i}", f"Shared words in every note. Version {version} of note {i} about {TOPICS[i % 8]}.")


def violation(col: CollectionBase, mode: str) -> str | None:
    hits = col.search("shared words every note", mode=mode, k=2 * N_SNAP, candidates=2 * N_SNAP, highlight=False)
    versions = {h.text.split("Version ")[1].split(" ")[0] for h in hits}
    if len(hits) != N_SNAP or len(versions) != 1:
        return f"{mode}: {len(hits)} hits, versions {sorted(versions)}"
    return None


def process_reader(path: str, stop_file: str, queue) -> None:
    """Search in a loop until ``stop_file`` exists; report (searches, violations)."""
    searches, bad = 0, []
    with open_collection(path) as col:
        for mode in MODES:  # load the encoder before the writes start
            violation(col, mode)
        queue.put("ready")
        while not os.path.exists(stop_file):
            for mode in MODES:
                searches += 1
                if (v := violation(col, mode)) is not None:
                    bad.append("process " + v)
    queue.put((searches, bad))


def snapshot_run(work: Path, versions: int, threads: int, processes: int) -> dict:
    """A writer upserts every document to a new version ``versions`` times; reader threads (sharing its
    collection object) and reader processes (their own) search all the while."""
    path, stop_file = work / "snapshots", work / "snapshots.stop"
    col = create_collection(path)
    col.add([snap_doc(i, 0) for i in range(N_SNAP)])
    from textlens.embed import EmbeddingCache, embed_with_cache

    cache = EmbeddingCache()  # embed every version first, so the timed writes are mostly index work
    embed_with_cache(col.encoder, [snap_doc(i, v).text for v in range(versions + 1) for i in range(N_SNAP)], cache)
    cache.close()
    searches = {"thread": 0}
    bad: list[str] = []
    stop = threading.Event()

    def thread_reader() -> None:
        while not stop.is_set():
            for mode in MODES:
                searches["thread"] += 1
                if (v := violation(col, mode)) is not None:
                    bad.append("thread " + v)

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=process_reader, args=(str(path), str(stop_file), queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    assert all(queue.get(timeout=300) == "ready" for _ in procs)
    pool = [threading.Thread(target=thread_reader) for _ in range(threads)]
    for t in pool:
        t.start()
    start = time.perf_counter()
    for v in range(1, versions + 1):
        col.upsert([snap_doc(i, v) for i in range(N_SNAP)])
    seconds = time.perf_counter() - start
    stop.set()
    stop_file.write_text("")
    for t in pool:
        t.join()
    reports = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    col.close()
    bad += [e for _, errors in reports for e in errors]
    row = {
        "writes": versions,
        "documents": N_SNAP,
        "write_seconds": round(seconds, 1),
        "reader_threads": threads,
        "reader_processes": processes,
        "thread_searches": searches["thread"],
        "process_searches": sum(n for n, _ in reports),
        "violations": len(bad),
        "examples": bad[:5],
    }
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--paths", default="add,upsert,delete,compact")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/reliability.json")
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "base"
        with create_collection(base) as col:
            col.add(BASE)
        kills = [sigkill_trials(name, args.trials, work, base, rng) for name in args.paths.split(",")]
        snapshots = snapshot_run(work, args.versions, threads=3, processes=2)
    out = {
        "benchmark": "reliability",
        "textlens": textlens.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "sigkill": kills,
        "snapshots": snapshots,
    }
    write_result(args.out, out)


if __name__ == "__main__":
    main()
