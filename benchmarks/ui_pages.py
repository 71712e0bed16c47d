"""Each web UI page's time to its first useful result, in Chromium, cold (a server just started: models and
tokenizers loading on first use) and warm (the same step again).

Builds a scratch home with the first 300 Vital Articles (the default encoder) and a two-query BEIR folder, starts
``textlens serve --llm smollm2-135m --data-dir SCRATCH`` on 127.0.0.1, and for each page does what a user does
first (compare the probe text, search, ask, list collections, evaluate, find keywords, look inside a model),
timing from opening the page (a new document) to the first result on screen. Needs Debian's Chromium (``make test``
installs it as root) and the pulled SmolLM2.

Usage: python benchmarks/ui_pages.py   (the keywords sample: a paragraph on photosynthesis)
Writes ``benchmarks/results/ui_pages.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import write_result
from rest_contract import build
from server_load import free_port, wait_ready
from textlens.config import settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/ui_pages.json"
SAMPLE = (
    "Photosynthesis is the process by which green plants, algae and some bacteria turn light energy into chemical "
    "energy. Chlorophyll in the chloroplasts absorbs sunlight, and the plant makes glucose and oxygen from carbon "
    "dioxide and water."
)


def beir(folder: Path) -> None:
    (folder / "qrels").mkdir(parents=True)
    docs = [("d1", "Mars", "The red planet."), ("d2", "Tiger", "A large striped cat."), ("d3", "Moon", "Earth's moon.")]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in docs))
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "red planet"}\n{"_id": "q2", "text": "striped cat"}\n')
    (folder / "qrels/test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")


def steps(page, beir_dir: Path):
    """(page, what is timed, start, the locator whose text says the result is there, the text). ``start`` opens
    the page as a new document at ``url`` (nothing left from the step before) and does what a user does first."""

    def tokens(url):
        page.goto(url + "#tokens")  # the page compares the probe text once the tokenizers are listed

    def search(url):
        page.goto(url + "#search")
        page.locator("#search-query").fill("the highest mountain on Earth")
        page.locator("#search-form button:enabled").click()

    def ask(url):
        page.goto(url + "#ask")
        page.locator("#ask-question").fill("Which planet is called the Red Planet?")
        page.locator("#ask-form button:enabled").click()

    def collections(url):
        page.goto(url + "#collections")

    def evaluate(url):
        page.goto(url + "#eval")
        page.locator("#eval-beir").fill(str(beir_dir))
        page.locator("#eval-form button").click()

    def keywords(url):
        page.goto(url + "#keywords")
        page.locator("#kw-text").fill(SAMPLE)
        page.locator("#kw-form button").click()

    def inside(url):
        page.goto(url + "#inside")
        page.locator("#in-form button:enabled").click(timeout=300_000)

    return [
        ("tokens", "the probe text compared", tokens, "#tok-stats", "gpt-4"),
        ("search", "the first hits of three modes", search, "#col-2 .hit", ""),
        ("ask", "the answer (or decline) with its passages", ask, "#ask-passages li", ""),
        ("collections", "the list", collections, "#col-table", "wiki"),
        ("eval", "the report of a 2-query BEIR set", evaluate, "#eval-report", "ndcg@10"),
        ("keywords", "the keywords of the sample text", keywords, "#kw-list li", ""),
        ("inside", "one layer's attention, checked", inside, "#in-check", "differ from the model's"),
    ]


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="textlens-ui-") as scratch:
        home = Path(scratch) / "home"
        build(home, 300)
        beir(Path(scratch) / "mini")
        port = free_port()
        env = {**os.environ, "TEXTLENS_HOME": str(home), "TEXTLENS_MODELS": str(settings().models)}
        cmd = [sys.executable, "-m", "textlens", "serve", "--port", str(port), "--llm", "smollm2-135m"]
        cmd += ["--data-dir", scratch]
        started = time.perf_counter()
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, server)
            ready_s = time.perf_counter() - started
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
                page = browser.new_page()
                for visit in ("cold", "warm"):
                    for name, what, start, selector, text in steps(page, Path(scratch) / "mini"):
                        t0 = time.perf_counter()
                        start(f"{base}/?run={visit}-{name}")
                        target = page.locator(selector).first
                        if text:
                            expect(target).to_contain_text(text, timeout=300_000)
                        else:
                            target.wait_for(timeout=300_000)
                        seconds = time.perf_counter() - t0
                        rows.append({"page": name, "visit": visit, "result": what, "seconds": round(seconds, 2)})
                        print(rows[-1], flush=True)
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    write_result(OUT, {"server_ready_s": round(ready_s, 1), "articles": 300, "llm": "smollm2-135m", "rows": rows})


if __name__ == "__main__":
    main()
