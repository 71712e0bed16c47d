"""Tune the hybrid knobs on a development split, then report the chosen setting on test.

The grid: reciprocal rank fusion with (keyword, dense) weights 1:1, 1:2, 2:1,
1:3, 3:1, and convex combination with the keyword weight from 0.2 to 0.8. The
best setting by nDCG@10 on the development split is evaluated once on the test
split: the test split never chooses anything. (tantivy does not expose BM25's
k1 and b, so they are not swept; chunking would need one collection per setting.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textlens.evaluate.data import beir_paths, load_qrels, load_queries, reconcile
from textlens.evaluate.runner import ModeSpec, _doc_ids, open_or_build, score_runs

GRID = [
    ModeSpec("hybrid", fusion="rrf", weights=w) for w in ((1.0, 1.0), (1.0, 2.0), (2.0, 1.0), (1.0, 3.0), (3.0, 1.0))
] + [ModeSpec("hybrid", fusion="convex", weights=(a, round(1 - a, 2))) for a in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]


@dataclass
class SweepResult:
    dev_split: str
    test_split: str
    dev: dict[str, float]  # label -> nDCG@10 on dev
    best: str
    test: dict[str, float]  # metrics of the best setting on test

    def to_dict(self) -> dict:
        return {
            "dev_split": self.dev_split,
            "test_split": self.test_split,
            "dev_ndcg@10": self.dev,
            "best": self.best,
            "test": self.test,
        }


def sweep_hybrid(
    folder: str | Path,
    *,
    dev_split: str = "dev",
    test_split: str = "test",
    collection: str | None = None,
    encoder: str = "sentence-transformers/all-MiniLM-L6-v2",
    progress: Callable[[str, int, int], None] | None = None,
) -> SweepResult:
    folder = Path(folder)
    _, queries_path, dev_path = beir_paths(folder, dev_split)
    test_path = beir_paths(folder, test_split)[2]
    queries = load_queries(queries_path)
    col, _ = open_or_build(folder, collection=collection, need_vectors=True, encoder=encoder, progress=progress)
    with col:
        ids = _doc_ids(col)
        dev = score_runs(
            col,
            reconcile(queries, load_qrels(dev_path), ids),
            GRID,
            dataset=folder.name,
            split=dev_split,
            progress=progress,
        )
        scores = {label: r["ndcg@10"] for label, r in dev.results.items()}
        best = max(GRID, key=lambda s: (scores[s.label], -GRID.index(s)))
        test = score_runs(
            col,
            reconcile(queries, load_qrels(test_path), ids),
            [best],
            dataset=folder.name,
            split=test_split,
            progress=progress,
        )
    return SweepResult(dev_split, test_split, scores, best.label, test.results[best.label])
