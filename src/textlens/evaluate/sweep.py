"""Tune the knobs that matter on a development split, then report the chosen setting on test.

Knobs, tuned one after another (coordinate ascent), each by nDCG@10 on the
development split, each keeping the best value of the knobs before it:

1. ``bm25``: k1 in {0.6, 0.9, 1.2, 1.5, 2.0} x b in {0.3, 0.5, 0.75, 0.9}, keyword mode
   (see :mod:`textlens.index.bm25`; tantivy's own 1.2/0.75 is the first setting);
2. ``fusion``: reciprocal rank fusion with (keyword, dense) weights 1:1, 1:2, 2:1, 1:3,
   3:1, and convex combination with the keyword weight from 0.2 to 0.8, hybrid mode;
3. ``chunking``: whole documents, 256-token windows (32 overlap) and 128-token windows
   (32 overlap), hybrid mode; each chunking is its own collection (built once, then reused),
   and a document scores as its best chunk.

Ties keep the earlier setting (the default comes first). The test split never chooses
anything: it is evaluated once at the end, for the default and the tuned configuration
(hybrid, and keyword with the default and the tuned BM25), so the gain is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Chunker
from textlens.errors import InputError
from textlens.evaluate.data import beir_paths, load_qrels, load_queries, reconcile
from textlens.evaluate.runner import ModeSpec, open_or_build, score_runs
from textlens.progress import Progress

KNOBS = ("bm25", "fusion", "chunking")
BM25_GRID = [(1.2, 0.75)] + [
    (k1, b) for k1 in (0.6, 0.9, 1.2, 1.5, 2.0) for b in (0.3, 0.5, 0.75, 0.9) if (k1, b) != (1.2, 0.75)
]
FUSION_GRID = [("rrf", w) for w in ((1.0, 1.0), (1.0, 2.0), (2.0, 1.0), (1.0, 3.0), (3.0, 1.0))] + [
    ("convex", (a, round(1 - a, 2))) for a in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
]
CHUNK_GRID = {
    "whole documents": None,
    "256-token windows, 32 overlap": Chunker("tokens", size=256, overlap=32),
    "128-token windows, 32 overlap": Chunker("tokens", size=128, overlap=32),
}


@dataclass
class SweepResult:
    dev_split: str
    test_split: str
    dev: dict[str, dict[str, float]] = field(default_factory=dict)  # knob -> setting label -> nDCG@10
    best: dict[str, str] = field(default_factory=dict)  # knob -> best setting label
    test: dict[str, dict[str, float]] = field(default_factory=dict)  # configuration -> metrics on test

    def to_dict(self) -> dict:
        return {
            "dev_split": self.dev_split,
            "test_split": self.test_split,
            "dev_ndcg@10": self.dev,
            "best": self.best,
            "test": self.test,
        }


def sweep(
    folder: str | Path,
    *,
    knobs: Sequence[str] = ("bm25", "fusion"),
    dev_split: str = "dev",
    test_split: str = "test",
    collection: str | None = None,
    encoder: str = DEFAULT_ENCODER,
    progress: Progress | None = None,
) -> SweepResult:
    """Tune ``knobs`` on ``dev_split`` of a BEIR folder; evaluate default and tuned on ``test_split``."""
    unknown = [k for k in knobs if k not in KNOBS]
    if unknown or not knobs:
        raise InputError(f"unknown knob(s) {', '.join(unknown) or '(none)'}", hint="Knobs: " + ", ".join(KNOBS) + ".")
    if dev_split == test_split:
        raise InputError(
            f"the development split and the test split are both {test_split!r}",
            hint="Tune on another split (--dev-split train, or dev), never on the one you report.",
        )
    folder = Path(folder)
    _, queries_path, dev_path = beir_paths(folder, dev_split)
    test_path = beir_paths(folder, test_split)[2]
    queries = load_queries(queries_path)
    dev_qrels, test_qrels = load_qrels(dev_path), load_qrels(test_path)
    base = collection or f"beir-{folder.resolve().name}"
    result = SweepResult(dev_split, test_split)
    tuned = ModeSpec("hybrid")
    chunking = "whole documents"

    def dev_scores(col, specs: list[ModeSpec]) -> dict[str, float]:
        data = reconcile(queries, dev_qrels, col.document_ids())
        found = score_runs(col, data, specs, dataset=folder.name, split=dev_split, progress=progress)
        return {label: r["ndcg@10"] for label, r in found.results.items()}

    col, _ = open_or_build(folder, collection=base, need_vectors=True, encoder=encoder, progress=progress)
    with col:
        if "bm25" in knobs:
            # the body's BM25 alone at every setting (the re-scorer has no title boost)
            specs = [ModeSpec("keyword", bm25=p, title_boost=0.0) for p in BM25_GRID]
            scores = dev_scores(col, specs)
            best = _best(specs, scores)
            result.dev["bm25"] = {f"k1={s.bm25[0]:g} b={s.bm25[1]:g}": scores[s.label] for s in specs}
            result.best["bm25"] = f"k1={best.bm25[0]:g} b={best.bm25[1]:g}"
            tuned = replace(tuned, bm25=best.bm25)
        if "fusion" in knobs:
            specs = [replace(tuned, fusion=f, weights=w) for f, w in FUSION_GRID]
            scores = dev_scores(col, specs)
            best = _best(specs, scores)
            result.dev["fusion"] = {_fusion_label(s): scores[s.label] for s in specs}
            result.best["fusion"] = _fusion_label(best)
            tuned = best
    if "chunking" in knobs:
        scores = {}
        for label, chunker in CHUNK_GRID.items():
            col, _ = open_or_build(
                folder,
                collection=_chunked_name(base, chunker),
                need_vectors=True,
                encoder=encoder,
                chunker=chunker,
                progress=progress,
            )
            with col:
                scores[label] = dev_scores(col, [tuned])[tuned.label]
        chunking = max(CHUNK_GRID, key=lambda lab: (scores[lab], -list(CHUNK_GRID).index(lab)))
        result.dev["chunking"] = scores
        result.best["chunking"] = chunking
    chunker = CHUNK_GRID[chunking]
    tuned_name = _chunked_name(base, chunker)
    configs = [("keyword (default)", base, ModeSpec("keyword")), ("hybrid (default)", base, ModeSpec("hybrid"))]
    if "bm25" in knobs:
        configs.append(("keyword (tuned BM25)", base, ModeSpec("keyword", bm25=tuned.bm25)))
    configs.append(("hybrid (tuned)", tuned_name, tuned))
    for name in dict.fromkeys(c[1] for c in configs):
        specs = {spec.label: spec for _, n, spec in configs if n == name}
        col, _ = open_or_build(
            folder,
            collection=name,
            need_vectors=True,
            encoder=encoder,
            chunker=chunker if name == tuned_name else None,
            progress=progress,
        )
        with col:
            data = reconcile(queries, test_qrels, col.document_ids())
            found = score_runs(
                col, data, list(specs.values()), dataset=folder.name, split=test_split, progress=progress
            )
        for label, n, spec in configs:
            if n == name:
                result.test[label] = found.results[spec.label]
    return result


def _chunked_name(base: str, chunker: Chunker | None) -> str:
    return base if chunker is None else f"{base}-{chunker.strategy}{chunker.size}-{chunker.overlap}"


def _best(specs: list[ModeSpec], scores: dict[str, float]) -> ModeSpec:
    return max(specs, key=lambda s: (scores[s.label], -specs.index(s)))


def _fusion_label(spec: ModeSpec) -> str:
    return f"{spec.fusion} {spec.weights[0]:g}/{spec.weights[1]:g}"
