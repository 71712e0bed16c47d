"""Encoding throughput: textlens vs calling tiktoken / tokenizers / sentencepiece directly.

About 10 MB of mixed text (Wikipedia articles, 20 Newsgroups posts, and the
multilingual probe text) is encoded in one run by each engine directly and
through textlens, single-threaded and with all cores, best of ``--repeat`` runs.
Writes ``benchmarks/results/tokens_throughput.json`` and prints a Markdown table.

Usage:
    TEXTLENS_ASSETS=../shared/tokenizers python benchmarks/tokens_throughput.py [--mb 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import sentencepiece
import tiktoken
import tiktoken.load
import tokenizers

import textlens
from provenance import write_result
from textlens.assets import resolve
from textlens.tokens import get_tokenizer, probe_text
from textlens.tokens.registry import spec

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_SHARED", ROOT.parent / "shared"))


def mixed_documents(target_bytes: int) -> list[str]:
    """Paragraph-sized documents: 70% Wikipedia, 20% newsgroups, 10% multilingual probe."""
    docs: list[str] = []

    def take(lines, share: float) -> None:
        budget = int(target_bytes * share)
        for text in lines:
            for para in text.split("\n"):
                if len(para) > 80:
                    docs.append(para)
                    budget -= len(para.encode())
                    if budget <= 0:
                        return

    with gzip.open(SHARED / "data/wikipedia/enwiki_articles_10k.jsonl.gz", "rt", encoding="utf-8") as fh:
        take((json.loads(line)["text"] for line in fh), 0.7)
    with gzip.open(SHARED / "data/topics/20newsgroups.jsonl.gz", "rt", encoding="utf-8") as fh:
        take((json.loads(line)["text"].replace("\n\n", "\n") for line in fh), 0.2)
    probe = probe_text()
    docs.extend([probe] * (int(target_bytes * 0.1) // len(probe.encode())))
    return docs


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=11.0, help="target size; the probe share rounds down")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tokens_throughput.json")
    args = parser.parse_args()

    docs = mixed_documents(int(args.mb * 1e6))
    nbytes = sum(len(d.encode()) for d in docs)
    cores = os.cpu_count() or 1

    tl_gpt4 = get_tokenizer("gpt-4")
    enc = tiktoken.Encoding(
        "cl100k_base",
        pat_str=spec("gpt-4").tiktoken.pattern,
        mergeable_ranks=tiktoken.load.load_tiktoken_bpe(str(resolve(spec("gpt-4").asset).path)),
        special_tokens=spec("gpt-4").tiktoken.special_tokens,
    )
    tl_qwen = get_tokenizer("qwen3")
    hf = tokenizers.Tokenizer.from_file(str(resolve(spec("qwen3").asset).path))
    tl_llama = get_tokenizer("llama-2")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(resolve(spec("llama-2").asset).path))

    cases = {
        "tiktoken (gpt-4)": (
            lambda n: enc.encode_batch(docs, num_threads=n, allowed_special="all"),
            lambda n: tl_gpt4.encode_batch(docs, add_special_tokens=False, num_threads=n),
        ),
        "tokenizers (qwen3 tokenizer.json)": (
            lambda n: [hf.encode(d).ids for d in docs] if n == 1 else [e.ids for e in hf.encode_batch_fast(docs)],
            lambda n: tl_qwen.encode_batch(docs, add_special_tokens=False, num_threads=n),
        ),
        "sentencepiece (llama-2)": (
            lambda n: sp.encode(docs, num_threads=n),
            lambda n: tl_llama.encode_batch(docs, add_special_tokens=False, num_threads=n),
        ),
    }
    rows = []
    for engine, (direct, ours) in cases.items():
        assert direct(1) == ours(1), f"{engine}: textlens and the direct call disagree"
        for threads in (1, cores):
            t_direct = best_of(lambda d=direct, n=threads: d(n), args.repeat)
            t_ours = best_of(lambda o=ours, n=threads: o(n), args.repeat)
            rows.append(
                {
                    "engine": engine,
                    "threads": threads,
                    "direct_mb_s": round(nbytes / 1e6 / t_direct, 2),
                    "textlens_mb_s": round(nbytes / 1e6 / t_ours, 2),
                    "textlens_vs_direct": round(t_direct / t_ours, 3),
                }
            )
            print(rows[-1], flush=True)

    result = {
        "benchmark": "tokens_throughput",
        "textlens": textlens.__version__,
        "documents": len(docs),
        "bytes": nbytes,
        "repeat": args.repeat,
        "cpu_count": cores,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "tiktoken": tiktoken.__version__,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": sentencepiece.__version__,
        "results": rows,
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_result(args.out, result)
    print(f"\n{len(docs):,} documents, {nbytes / 1e6:.1f} MB\n")
    print("| engine | threads | direct MB/s | textlens MB/s | textlens / direct |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['threads']} | {r['direct_mb_s']} | {r['textlens_mb_s']} | "
            f"{r['textlens_vs_direct']:.2f} |"
        )


if __name__ == "__main__":
    main()
