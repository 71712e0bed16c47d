"""The REST contract as a client nobody here wrote sees it: schemathesis (every check, every phase) against
``textlens serve --llm smollm2-135m`` over a 300-article collection, on 127.0.0.1 with a fixed seed.

Builds the collection in a scratch home (the first 300 Vital Articles, the default encoder), pulls nothing (the
LLM must be pulled: ``textlens models pull smollm2-135m``), starts the server in a child process, runs
``schemathesis --config-file benchmarks/rest_contract.toml run URL/openapi.json --checks all -n N --workers 1
--seed S`` with the API key (the file sets the response-time limits: 10 s, two minutes where the LLM works), and
reads its summary: the unique failures by kind and the operations they were found on. The run is kept under ``--label``
(one row per label: the code before a change and after it side by side in ``benchmarks/results/rest_contract.json``;
``PYTHONPATH=OTHER_CHECKOUT/src`` serves another commit's code, and the row names the commit served).

Usage: python benchmarks/rest_contract.py [--label now] [--examples 40] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import textlens
from provenance import provenance, write_result
from server_load import free_port, wait_ready
from textlens.config import settings

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT.parent / "shared" / "data" / "wikipedia" / "vital_articles_en.jsonl"
KEY = "contract-key"
OUT = ROOT / "benchmarks/results/rest_contract.json"
CONFIG = ROOT / "benchmarks/rest_contract.toml"  # the response-time limits: 10 s, two minutes for LLM work


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


def read_report(text: str) -> dict[str, Any]:
    """schemathesis's own summary: unique failures by kind (``ST202 Schema-valid request rejected``), errors by
    kind, and for each operation the kinds of failure found on it."""
    summary = text[text.rfind("SUMMARY") :]
    by_kind = {m[1]: int(m[2]) for m in re.finditer(r"❌ (.+?): (\d+)$", summary, re.M)}
    errors = {m[1]: int(m[2]) for m in re.finditer(r"🚫 (.+?): (\d+)$", summary, re.M)}
    per_operation: dict[str, list[str]] = {}
    operation = None
    for line in text[: text.rfind("SUMMARY")].splitlines():
        if m := re.fullmatch(r"_+ ((?:GET|POST|PUT|PATCH|DELETE|TRACE|OPTIONS|HEAD) \S+) _+", line.strip()):
            operation = m[1]
        elif operation and (m := re.match(r"- (ST\d+ .+|Network Error|.*timed out.*)$", line.strip())):
            per_operation.setdefault(operation, []).append(m[1])
    cases = re.search(r"(\d+) generated, .*", summary)
    return {
        "failures": sum(by_kind.values()),
        "by_kind": by_kind,
        "errors": errors,
        "by_operation": {op: sorted(set(kinds)) for op, kinds in per_operation.items()},
        "test_cases": cases[0] if cases else None,
    }


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
            wait_ready(url, server)
            st = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", url + "/openapi.json"]
            st += ["--checks", "all"]
            st += ["-n", str(args.examples), "--workers", "1", "--seed", str(args.seed), "-H", f"X-API-Key: {KEY}"]
            st += ["--no-color", "--generation-database", "none"]
            started = time.perf_counter()
            done = subprocess.run(st, capture_output=True, text=True)
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # an answer still being written
                server.kill()
        (Path(tempfile.gettempdir()) / "rest_contract.log").write_text(done.stdout + done.stderr)

    served = Path(textlens.__file__).parent  # the code the server ran (PYTHONPATH may name another checkout)
    commit = subprocess.run(["git", "-C", str(served), "rev-parse", "HEAD"], capture_output=True, text=True)
    row = {
        "label": args.label,
        "commit": commit.stdout.strip() or provenance()["commit"],
        **read_report(done.stdout),
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
    }
    last = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    runs = [r for r in last.get("runs", []) if r["label"] != args.label] + [row]
    command = (
        "schemathesis --config-file benchmarks/rest_contract.toml run URL/openapi.json --checks all "
        f"-n {args.examples} --workers 1 --seed {args.seed}"
    )
    write_result(OUT, {"command": command, "articles": args.articles, "llm": args.llm, "runs": runs})
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
