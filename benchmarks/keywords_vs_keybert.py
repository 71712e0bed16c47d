"""Keywords for 1,000 documents: textlens vs the ``keybert`` package, side by side in one run,
with the same encoder object (all-MiniLM-L6-v2 from its PyPI package).

Documents: 1,000 posts of 20 Newsgroups (headers and quotes removed, a fixed sample).
Settings: 1- and 2-word phrases, English stop words, top 5; plain ranking and MMR with
diversity 0.5. textlens runs without the embedding cache (cold, as KeyBERT) and then
with it warm (the second run of a corpus). Agreement: per document, the Jaccard overlap
of the two top-5 sets (lowercased), averaged.

Writes ``benchmarks/results/keywords_vs_keybert.json``.
Usage: python benchmarks/keywords_vs_keybert.py [--docs N]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

import textlens
from passages import newsgroups, plain_sentence_transformer
from provenance import write_result
from textlens.embed import get_encoder
from textlens.keywords import extract_keywords

ROOT = Path(__file__).resolve().parents[1]


def jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = {x.lower() for x in a}, {x.lower() for x in b}
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args()
    docs = newsgroups()
    random.Random(0).shuffle(docs)
    texts = [d.text for d in docs[: args.docs]]
    encoder = get_encoder()
    from keybert import KeyBERT

    kb = KeyBERT(model=plain_sentence_transformer())  # the same model textlens uses
    extract_keywords(texts[:10], encoder=encoder, cache=False)  # warm both up
    kb.extract_keywords(texts[:10])
    rows, filled = [], False
    for label, mmr in (("plain ranking", None), ("MMR, diversity 0.5", 0.5)):
        t0 = time.perf_counter()
        theirs = kb.extract_keywords(texts, keyphrase_ngram_range=(1, 2), stop_words="english", top_n=5,
                                     use_mmr=mmr is not None, diversity=mmr or 0.5)  # fmt: skip
        t_kb = time.perf_counter() - t0
        timings = {}
        for run in ("cold", "fill", "cached"):  # no cache; then the cache filled once; then read from it
            if run == "fill" and filled:
                continue
            t0 = time.perf_counter()
            ours = extract_keywords(texts, encoder=encoder, ngram_range=(1, 2), k=5, diversity=mmr,
                                    cache=run != "cold")  # fmt: skip
            timings[run] = time.perf_counter() - t0
        filled = True
        agree = [jaccard([k for k, _ in t], [k.phrase for k in o.keywords]) for t, o in zip(theirs, ours, strict=True)]
        row = {
            "setting": label,
            "keybert_seconds": round(t_kb, 1),
            "textlens_seconds_cold": round(timings["cold"], 1),
            "textlens_seconds_cached": round(timings["cached"], 1),
            "keybert_docs_per_s": round(len(texts) / t_kb, 1),
            "textlens_docs_per_s_cold": round(len(texts) / timings["cold"], 1),
            "mean_jaccard_top5": round(sum(agree) / len(agree), 3),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    example = {"keybert": [k for k, _ in theirs[0]], "textlens": [k.phrase for k in ours[0].keywords],
               "text": texts[0][:400]}  # fmt: skip
    out = {
        "textlens": textlens.__version__,
        "machine": f"{platform.machine()}, 2 cores",
        "documents": len(texts),
        "encoder": encoder.name,
        "rows": rows,
        "example": example,
    }
    path = ROOT / "benchmarks/results/keywords_vs_keybert.json"
    write_result(path, out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
