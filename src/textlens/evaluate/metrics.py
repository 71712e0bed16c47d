"""Metrics (ranx: trec_eval-checked) over runs of the same queries."""

from __future__ import annotations

from typing import Any

from textlens.evaluate.data import Qrels

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@100", "precision@10")
Run = dict[str, dict[str, float]]


def _require_ranx():
    import warnings

    warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
    try:
        import ranx
    except ImportError as exc:
        raise ImportError("evaluation needs ranx: pip install 'textlens[eval]'") from exc
    return ranx


def rank_scores(ranked: list[str]) -> dict[str, float]:
    """Scores that keep the given order exactly (ties in the raw scores already broken)."""
    n = len(ranked)
    return {doc: float(n - i) for i, doc in enumerate(ranked)}


def evaluate_run(qrels: Qrels, run: Run, metrics: tuple[str, ...] = METRICS) -> tuple[dict[str, float], dict[str, Any]]:
    """Mean metrics and per-query values of one run."""
    ranx = _require_ranx()
    q = ranx.Qrels(qrels)
    r = ranx.Run({qid: run.get(qid, {}) or {"__none__": 0.0} for qid in qrels})
    means = ranx.evaluate(q, r, list(metrics), make_comparable=True)
    if len(metrics) == 1:  # ranx gives a bare number for one metric
        means = {metrics[0]: means}
    per_query = r.scores
    return {m: round(float(means[m]), 4) for m in metrics}, {m: dict(per_query[m]) for m in metrics}


def significance(qrels: Qrels, runs: dict[str, Run], metric: str = "ndcg@10") -> dict[str, dict[str, float]]:
    """Paired two-sided t-test p-values between every two runs (ranx.compare)."""
    ranx = _require_ranx()
    if len(runs) < 2:
        return {}
    q = ranx.Qrels(qrels)
    named = []
    for name, run in runs.items():
        r = ranx.Run({qid: run.get(qid, {}) or {"__none__": 0.0} for qid in qrels}, name=name)
        named.append(r)
    report = ranx.compare(q, named, metrics=[metric], stat_test="student", make_comparable=True).to_dict()
    return {a: {b: round(float(p[metric]), 6) for b, p in report[a]["comparisons"].items()} for a in runs}
