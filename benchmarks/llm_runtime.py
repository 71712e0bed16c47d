"""What textlens's LLM backends cost over llama.cpp driven directly: the same GGUF model, prompt,
threads and greedy settings; tokens per wall-clock second of the whole call (prompt reading
included), median of alternating runs (each run starts at another row, so no row always follows
the same one).

Rows: llama.cpp direct (xllamacpp's Server, no textlens code), textlens's local backend (whole and
streamed), and textlens's OpenAI-compatible backend talking to llama.cpp's HTTP server.

Usage: python benchmarks/llm_runtime.py [--model qwen2.5-coder-1.5b] [--runs 10] [--threads 2]
Writes ``benchmarks/results/llm_runtime_{model}.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import xllamacpp

from provenance import write_result
from textlens.llm import get_generator
from textlens.llm.openai_http import OpenAIGenerator

ROOT = Path(__file__).resolve().parents[1]
PROMPT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {
        "role": "user",
        "content": "Mars is the fourth planet from the Sun. It is also known as the Red Planet, for its "
        "orange-red appearance. Mars is a desert-like rocky planet with a tenuous atmosphere that is primarily "
        "carbon dioxide.\n\nExplain in a paragraph why Mars looks red, and what its atmosphere is made of.",
    },
]
MAX_TOKENS = 128


def direct(server, stream: bool) -> tuple[int, float]:
    body = {"messages": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0.0, "seed": 0}
    start = time.perf_counter()
    if stream:
        last = {}

        def chunk(data):
            if data.get("usage"):
                last.update(data["usage"])

        server.handle_chat_completions({**body, "stream": True, "stream_options": {"include_usage": True}}, chunk)
        tokens = last["completion_tokens"]
    else:
        tokens = server.handle_chat_completions(body)["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - start


def through(generator, stream: bool) -> tuple[int, float]:
    start = time.perf_counter()
    out = generator.generate(PROMPT, max_tokens=MAX_TOKENS, on_text=(lambda _t: None) if stream else None)
    return out.usage.completion_tokens, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    textlens_llm = get_generator(args.model, threads=args.threads)
    params = xllamacpp.CommonParams()
    params.model.path = str(textlens_llm.path)
    params.n_ctx = textlens_llm.context_size
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.verbosity = -1
    server = xllamacpp.Server(params)
    os.environ["TEXTLENS_BENCH_KEY"] = textlens_llm.api_key
    remote = OpenAIGenerator(textlens_llm.url, api_key_env="TEXTLENS_BENCH_KEY")
    rows = {
        "llama.cpp direct (xllamacpp)": lambda: direct(server, False),
        "llama.cpp direct, streamed": lambda: direct(server, True),
        "textlens local backend": lambda: through(textlens_llm, False),
        "textlens local backend, streamed": lambda: through(textlens_llm, True),
        "textlens OpenAI backend -> llama.cpp HTTP server": lambda: through(remote, True),
    }
    for run in rows.values():
        run()  # warm up: load, fill the prompt cache
    times: dict[str, list[float]] = {name: [] for name in rows}
    tokens: dict[str, int] = {}
    names = list(rows)
    for i in range(args.runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # each run starts at another row
            run = rows[name]
            n, seconds = run()
            tokens[name] = n
            times[name].append(seconds)
    base = statistics.median(times["llama.cpp direct (xllamacpp)"]) / tokens["llama.cpp direct (xllamacpp)"]
    out = {
        "model": args.model,
        "threads": args.threads,
        "max_tokens": MAX_TOKENS,
        "runs": args.runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "rows": {
            name: {
                "completion_tokens": tokens[name],
                "median_s": round(statistics.median(times[name]), 3),
                "tokens_per_s": round(tokens[name] / statistics.median(times[name]), 2),
                "vs_direct": round(base / (statistics.median(times[name]) / tokens[name]), 3),
            }
            for name in rows
        },
    }
    write_result((ROOT / f"benchmarks/results/llm_runtime_{args.model}.json"), out)
    print(json.dumps(out["rows"], indent=2))


if __name__ == "__main__":
    main()
