"""A bounded load on 127.0.0.1: concurrent clients searching SciFact through the REST API, next to
the same searches made in-process.

Builds the ``beir-scifact`` collection first if needed, measures ``Collection.search`` in
this process on the same queries and options (one thread, ``--seconds`` per mode), then
starts ``textlens serve`` in a child process on a free loopback port, waits until
``/healthz`` says ready (encoder loaded), and runs ``--clients`` concurrent clients for
``--seconds`` per mode (SciFact queries in turn), then stops the server. Reports
queries/s, p50/p99 latency and errors per mode, and the server's share of the in-process
rate. Writes ``benchmarks/results/server_load.json``.

The clients speak HTTP/1.1 over asyncio streams (kept-alive connections), so the load
generator takes little of the CPU it shares with the server; its CPU per request is in
the results. ``TEXTLENS_ENCODER_BACKEND=torch`` measures the torch encoder instead of ONNX.

Runs the server twice by default: with no search workers (the server process answers every
search on its event loop) and with ``textlens serve``'s default (one search process per core).

Usage: python benchmarks/server_load.py [--clients 32] [--seconds 60] [--search-workers 0,auto]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

import textlens
from passages import SCIFACT
from provenance import write_result
from textlens.cli.serve import default_search_workers

ROOT = Path(__file__).resolve().parents[1]


def wait_ready(base: str, server: subprocess.Popen, seconds: float = 300) -> None:
    """Until the server at ``base`` answers ``/healthz`` with 200 (up, its models loaded); ``SystemExit`` with
    its last words if it dies or takes longer than ``seconds``."""
    deadline = time.time() + seconds
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.time() > deadline or server.poll() is not None:
            said = server.stderr.read().decode()[-2000:] if server.stderr else ""
            raise SystemExit("server did not start: " + said) from None
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client(
    port: int, queries: list[str], modes: list[str], stop: float, latencies: list, errors: list, offset: int
) -> None:
    """One client: a kept-alive HTTP/1.1 connection, one request at a time.

    Written on asyncio streams rather than httpx so the load generator takes little of the CPU
    it shares with the server (httpx: about 1.3 ms of CPU per request here; this: a fraction).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /api/collections/beir-scifact/search HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    n = offset
    try:
        while time.perf_counter() < stop:
            body = json.dumps({"query": queries[n % len(queries)], "mode": modes[n % len(modes)], "k": 10}).encode()
            start = time.perf_counter()
            writer.write(f"{head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            status = int(status_line.split()[1]) if status_line else 0
            if status != 200:
                errors.append(status)
            n += 1
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


async def load(port: int, queries: list[str], modes: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list = []
    cpu = time.process_time()
    start = time.perf_counter()
    stop = start + seconds
    await asyncio.gather(*(client(port, queries, modes, stop, latencies, errors, i * 7) for i in range(clients)))
    wall = time.perf_counter() - start
    lat = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "seconds": round(wall, 1),
        "queries_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
        "errors": len(errors),
        "load_generator_cpu_ms_per_request": round((time.process_time() - cpu) / max(1, len(latencies)) * 1000, 2),
    }


def in_process_rate(queries: list[str], mode: str, seconds: float) -> float:
    """``Collection.search`` queries/s in this process, one thread, the options the clients send."""
    from textlens.index import open_collection

    with open_collection("beir-scifact") as col:
        col.search("warm up", mode=mode)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            col.search(queries[n % len(queries)], mode=mode, k=10)
            n += 1
        return round(n / (time.perf_counter() - start), 1)


def serve_and_load(workers: int, queries: list[str], in_process: dict, clients: int, seconds: float) -> list[dict]:
    """Start ``textlens serve --search-workers WORKERS``, load it mode by mode, stop it; one row a mode."""
    port = free_port()
    command = [sys.executable, "-m", "textlens", "serve", "--port", str(port), "-c", "beir-scifact"]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", "--search-workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)  # the encoder and the search workers loaded
        for _ in range(max(1, workers) * 4):
            httpx.post(base + "/api/collections/beir-scifact/search", json={"query": "warm up", "mode": "hybrid"})
        rows = []
        for mode in ("keyword", "hybrid"):
            row = {
                "mode": mode,
                "search_workers": workers,
                "clients": clients,
                **asyncio.run(load(port, queries, [mode], clients, seconds)),
                "in_process_queries_per_s": in_process[mode],
            }
            row["share_of_in_process"] = round(row["queries_per_s"] / in_process[mode], 2)
            print(row, flush=True)
            rows.append(row)
        return rows
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--search-workers",
        type=lambda v: [default_search_workers() if w == "auto" else int(w) for w in v.split(",")],
        default="0,auto",
        help="server configurations, one after the other (textlens serve --search-workers; auto: its default)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/server_load.json")
    args = parser.parse_args()
    from textlens.embed import get_encoder
    from textlens.evaluate.runner import open_or_build

    open_or_build(SCIFACT, collection=None, need_vectors=True, encoder="sentence-transformers/all-MiniLM-L6-v2")[
        0
    ].close()
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
    in_process = {mode: in_process_rate(queries, mode, args.seconds) for mode in ("keyword", "hybrid")}
    print("in-process", in_process, flush=True)
    rows = []
    for workers in args.search_workers:
        rows += serve_and_load(workers, queries, in_process, args.clients, args.seconds)
    out = {
        "benchmark": "server_load",
        "textlens": textlens.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "cpu_cores": os.cpu_count(),
        "collection": "beir-scifact (5,183 documents, all-MiniLM-L6-v2)",
        "encoder_backend": type(get_encoder()).__name__,  # TEXTLENS_ENCODER_BACKEND picks it (default auto)
        "results": rows,
    }
    write_result(args.out, out)


if __name__ == "__main__":
    main()
