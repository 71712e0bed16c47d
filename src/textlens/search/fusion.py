"""Fusing ranked lists: reciprocal rank fusion and convex combination.

Pure functions on ``{id: score}`` mappings, each returning ``[(id, score)]`` best
first; ties are broken by id so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Scores = Mapping[str, float]


def rrf(runs: Sequence[Scores], *, k: int = 60, weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

    ``score(d) = sum_i w_i / (k + rank_i(d))`` over the runs that retrieved ``d``,
    with ranks from 1. Scores themselves are ignored, only their order counts.
    """
    weights = weights or [1.0] * len(runs)
    fused: dict[str, float] = {}
    for run, weight in zip(runs, weights, strict=True):
        ranked = sorted(run.items(), key=lambda kv: (-kv[1], kv[0]))
        for rank, (doc, _) in enumerate(ranked, 1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def min_max(run: Scores) -> dict[str, float]:
    """Scale scores to [0, 1]; a run whose scores are all equal maps to 1."""
    if not run:
        return {}
    lo, hi = min(run.values()), max(run.values())
    span = hi - lo
    return {d: (s - lo) / span if span else 1.0 for d, s in run.items()}


def convex(runs: Sequence[Scores], weights: Sequence[float]) -> list[tuple[str, float]]:
    """Convex combination of min-max normalised scores (Bruch et al., TOIS 2023).

    ``score(d) = sum_i w_i * norm_i(d)``; a document missing from a run gets 0 there.
    """
    total = sum(weights)
    if total <= 0:
        raise ValueError("fusion weights must sum to a positive number")
    fused: dict[str, float] = {}
    for run, weight in zip(runs, weights, strict=True):
        for doc, s in min_max(run).items():
            fused[doc] = fused.get(doc, 0.0) + weight / total * s
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
