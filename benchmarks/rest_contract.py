"""The REST contract as a client nobody here wrote sees it: schemathesis (every check, every phase) against
``textlens serve --llm smollm2-135m`` over a 300-article collection, on 127.0.0.1 with a fixed seed.

Builds the collection in a scratch home (the first 300 Vital Articles, the default encoder), pulls nothing (the
LLM must be pulled: ``textlens models pull smollm2-135m``), starts the server in a child process, runs
``schemathesis run URL/openapi.json --checks all -n N --workers 1 --seed S`` with the API key, and reads its
JUnit report: the failures by check and operation. The run is kept under ``--label`` (one row per label, so the
code before a change and after it sit side by side in ``benchmarks/results/rest_contract.json``).

Usage: python benchmarks/rest_contract.py [--label now] [--examples 40] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import httpx

from provenance import provenance, write_result
from textlens.config import settings

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT.parent / "shared" / "data" / "wikipedia" / "vital_articles_en.jsonl"
KEY = "contract-key"
OUT = ROOT / "benchmarks/results/rest_contract.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(home: Path, n: int) -> None:
    """The collection ``wiki``: the first ``n`` Vital Articles, embedded with the default encoder."""
    code = (
        "import itertools, json, sys\n"
        "from textlens import Collection, Document\n"
        "lines = itertools.islice(open(sys.argv[1], encoding='utf-8'), int(sys.argv[2]))\n"
        "docs = [Document(r['id'], r['text'], r['title']) for r in map(json.loads, lines)]\n"
        "with Collection.create('wiki') as col:\n"
        "    col.add(docs)\n"
    )
    env = {**os.environ, "TEXTLENS_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code, str(ARTICLES), str(n)], env=env, check=True)


def failures(junit: Path) -> list[dict[str, str]]:
    """Each failed test case of the report: the operation, and the first line of each failure it holds."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failed in [*case.iter("failure"), *case.iter("error")]:
            text = (failed.get("message") or failed.text or "").strip()
            for block in text.split("\n\n"):
                first = block.strip().splitlines()[0] if block.strip() else ""
                if first.startswith(("- ", "1. ", "2. ")) or not out or first:
                    out.append({"operation": case.get("name", ""), "failure": first.lstrip("-0123456789. ")})
    return [f for f in out if f["failure"] and not f["failure"].startswith(("Reproduce", "curl", "[", "Test Case"))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="now", help="the row this run is kept under")
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--llm", default="smollm2-135m")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="textlens-contract-") as scratch:
        home = Path(scratch) / "home"
        build(home, args.articles)
        port = free_port()
        models = str(settings().models)  # the pulled LLM, where the user keeps it
        env = {**os.environ, "TEXTLENS_HOME": str(home), "TEXTLENS_MODELS": models, "TEXTLENS_API_KEY": KEY}
        cmd = [sys.executable, "-m", "textlens", "serve", "--port", str(port), "--llm", args.llm]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 300
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not become ready")
                time.sleep(1)
            junit = Path(scratch) / "junit.xml"
            st = [sys.executable, "-m", "schemathesis.cli", "run", url + "/openapi.json", "--checks", "all"]
            st += ["-n", str(args.examples), "--workers", "1", "--seed", str(args.seed), "-H", f"X-API-Key: {KEY}"]
            st += ["--report", "junit", "--report-junit-path", str(junit), "--no-color"]
            started = time.perf_counter()
            done = subprocess.run(st, capture_output=True, text=True)
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # an answer still being written
                server.kill()
        found = failures(junit)
        (Path(tempfile.gettempdir()) / "rest_contract.log").write_text(done.stdout + done.stderr)
        summary = [line for line in done.stdout.splitlines() if "test cases" in line or "failures" in line.lower()]

    kinds = Counter(f["failure"] for f in found)
    row = {
        "label": args.label,
        "commit": provenance()["commit"],
        "failures": len(found),
        "by_failure": dict(kinds.most_common()),
        "by_operation": dict(Counter(f["operation"] for f in found).most_common()),
        "summary": summary[-3:],
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
    }
    last = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    runs = [r for r in last.get("runs", []) if r["label"] != args.label] + [row]
    command = f"schemathesis run URL/openapi.json --checks all -n {args.examples} --workers 1 --seed {args.seed}"
    write_result(OUT, {"command": command, "articles": args.articles, "llm": args.llm, "runs": runs})
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
