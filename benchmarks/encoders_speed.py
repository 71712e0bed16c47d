"""Encoding speed and quality per backend: plain sentence-transformers, textlens torch, textlens ONNX
Runtime (fp32) and textlens ONNX Runtime int8, side by side in one run.

Speed: 1,000 Wikipedia passages (shuffled, seed 0; the same as ``search_vectors.py``), one
timed ``encode`` each after a warm-up, batch size 64; also the share of this CPU's fp32 peak
reached (the transformer's multiply-adds counted from each passage's token count; the peak
assumes two 8-wide (AVX2) or 16-wide (AVX-512) FMA units per core at the clock
``/proc/cpuinfo`` reports, so it is an estimate).

Quality: SciFact test nDCG@10, dense mode. The fp32 backends give the same vectors (their
largest difference on the 1,000 passages is reported), so they share the nDCG of the
``beir-scifact`` collection; int8 is a model of its own (``all-MiniLM-L6-v2:int8``) and gets
its own collection ``beir-scifact-int8``, built here if missing.

Usage: python benchmarks/encoders_speed.py [--passages 1000]
Writes ``benchmarks/results/encoders_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np

import textlens
from passages import SCIFACT, plain_sentence_transformer, wiki_passages
from provenance import write_result
from textlens.config import DEFAULT_ENCODER
from textlens.embed.onnx import OnnxEncoder
from textlens.embed.sentence_transformers import SentenceTransformerEncoder
from textlens.evaluate.runner import ModeSpec, evaluate_beir
from textlens.models.ref import resolve

ROOT = Path(__file__).resolve().parents[1]


def peak_gflops() -> tuple[float, str]:
    info = Path("/proc/cpuinfo").read_text()
    mhz = max(float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz"))
    flags = next(line for line in info.splitlines() if line.startswith("flags")).split()
    lanes = 16 if "avx512f" in flags else 8
    cores = os.cpu_count() or 1
    return cores * mhz / 1000 * lanes * 2 * 2, f"{cores} cores x {mhz:.0f} MHz x 2 FMA units x {lanes} lanes x 2"


def transformer_gflop(texts: list[str]) -> float:
    """Multiply-adds x 2 of the transformer layers for these texts (embeddings and pooling left out)."""
    from tokenizers import Tokenizer

    folder = Path(resolve(DEFAULT_ENCODER).target)
    config = json.loads((folder / "config.json").read_text())
    h, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    flop = 0.0
    for e in tok.encode_batch(texts):
        n = len(e.ids)
        flop += layers * (2 * n * (4 * h * h + 2 * h * inner) + 4 * n * n * h)
    return flop / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/encoders_speed.json")
    args = parser.parse_args()
    texts = [d.text for d in wiki_passages(args.passages)]
    random.Random(0).shuffle(texts)
    plain = plain_sentence_transformer()
    systems = {
        "sentence-transformers (plain encode)": lambda t: plain.encode(
            t, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ),
        "textlens torch": SentenceTransformerEncoder().encode,
        "textlens ONNX Runtime": OnnxEncoder().encode,
        "textlens ONNX Runtime int8": OnnxEncoder(DEFAULT_ENCODER + ":int8").encode,
    }
    gflop = transformer_gflop(texts)
    peak, peak_how = peak_gflops()
    reference = None
    rows = []
    for label, encode in systems.items():
        encode(texts[:64])  # warm up
        start = time.perf_counter()
        vectors = encode(texts)
        seconds = time.perf_counter() - start
        reference = vectors if reference is None else reference
        rows.append(
            {
                "system": label,
                "passages_per_s": round(len(texts) / seconds, 1),
                "gflop_per_s": round(gflop / seconds, 1),
                "share_of_peak": round(gflop / seconds / peak, 3),
                "max_abs_diff_vs_plain": float(np.abs(vectors - reference).max()),
                "min_cosine_vs_plain": round(float((vectors * reference).sum(axis=1).min()), 4),
            }
        )
        print(rows[-1], flush=True)
    for row in rows:
        row["vs_plain"] = round(row["passages_per_s"] / rows[0]["passages_per_s"], 3)
    quality = {}
    for name, collection in ((DEFAULT_ENCODER, "beir-scifact"), (DEFAULT_ENCODER + ":int8", "beir-scifact-int8")):
        result = evaluate_beir(SCIFACT, [ModeSpec("dense")], collection=collection, encoder=name)
        quality[name] = {k: round(v, 4) for k, v in result.results["dense"].items() if k in ("ndcg@10", "recall@100")}
        print(name, quality[name], flush=True)
    for row in rows:
        row["scifact_dense"] = quality[DEFAULT_ENCODER + (":int8" if "int8" in row["system"] else "")]
    out = {
        "benchmark": "encoders_speed",
        "textlens": textlens.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "model": DEFAULT_ENCODER,
        "passages": len(texts),
        "transformer_gflop": round(gflop, 1),
        "peak_gflop_per_s": round(peak, 1),
        "peak_estimate": peak_how,
        "results": rows,
    }
    write_result(args.out, out)


if __name__ == "__main__":
    main()
