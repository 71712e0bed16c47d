"""Run every query of an evaluation set through a collection, in each search mode, and score the runs.

``evaluate_beir`` builds (or reuses) a collection from a BEIR folder;
``evaluate_collection`` uses an existing collection with the user's queries and
qrels. Both follow the BEIR convention that a query's own id is never a hit,
break ties deterministically (score, then document id) and keep each run so it
can be saved in TREC format.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.config import DEFAULT_ENCODER
from textlens.corpus import Chunker
from textlens.errors import InputError
from textlens.evaluate.data import EvalData, beir_paths, load_qrels, load_queries, reconcile
from textlens.evaluate.metrics import METRICS, Run, evaluate_run, rank_scores, significance
from textlens.index import CollectionBase, CollectionConflict, CollectionNotFound, create_collection, open_collection
from textlens.progress import Progress

DEPTH = 100  # hits per query: enough for MAP@100 and Recall@100


@dataclass
class ModeSpec:
    """One configuration to evaluate: a search mode and its options."""

    mode: str
    rerank: Any = None  # a cross-encoder id or folder, or a Reranker (textlens.search.rerank)
    fusion: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)
    bm25: tuple[float, float] | None = None  # (k1, b); None: tantivy's 1.2, 0.75
    title_boost: float | None = None  # None: the collection's default (TITLE_BOOST)
    rerank_depth: int | None = None  # rerank the first this many hits (None: all DEPTH)
    rerank_weight: float = 1.0  # the reranker's share, interpolated with the first stage (1: its order alone)

    @property
    def label(self) -> str:
        label = self.mode
        if self.mode == "hybrid" and (self.fusion != "rrf" or self.weights != (1.0, 1.0)):
            label += f"[{self.fusion} {self.weights[0]:g}/{self.weights[1]:g}]"
        if self.bm25 is not None and self.mode != "dense":
            label += f"[bm25 {self.bm25[0]:g}/{self.bm25[1]:g}]"
        if self.title_boost is not None and self.mode != "dense":
            label += f"[title {self.title_boost:g}]"
        if self.rerank:
            label += "+rerank" + (f"@{self.rerank_depth}" if self.rerank_depth else "")
            label += f"[w {self.rerank_weight:g}]" if self.rerank_weight != 1.0 else ""
        return label


@dataclass
class EvalResult:
    """Scores per mode, per-query values, runs, significance tests and timings."""

    dataset: str
    split: str
    results: dict[str, dict[str, float]]
    per_query: dict[str, dict[str, dict[str, float]]]
    runs: dict[str, Run]
    significance: dict[str, dict[str, float]]
    seconds: dict[str, float]
    queries: int
    problems: dict[str, int] = field(default_factory=dict)
    collection: str = ""
    data: EvalData | None = None

    def _repr_html_(self) -> str:
        """The ``eval --html`` report (Jupyter shows it inline)."""
        from textlens.evaluate.report import html_report

        return html_report(self)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "queries": self.queries,
            "results": self.results,
            "significance_ndcg@10": self.significance,
            "seconds": self.seconds,
            "problems": self.problems,
            "collection": self.collection,
        }


def run_queries(
    col: CollectionBase, data: EvalData, spec: ModeSpec, *, depth: int = DEPTH, progress: Progress | None = None
) -> Run:
    """One search per query; the query's own id is removed from its hits (BEIR convention)."""
    run: Run = {}
    chunked = col.is_chunked()
    for n, (qid, text) in enumerate(data.queries.items(), 1):
        res = col.search(
            text,
            mode=spec.mode,
            k=depth + 1,
            rerank=spec.rerank,
            fusion=spec.fusion,
            weights=spec.weights,
            candidates=depth,
            group_by_document=chunked,
            bm25=spec.bm25,
            title_boost=spec.title_boost,
            highlight=False,
            rerank_depth=spec.rerank_depth,
            rerank_weight=spec.rerank_weight,
        )
        ranked = [h.document for h in res.hits if h.document != qid][:depth]
        run[qid] = rank_scores(ranked)
        if progress:
            progress(spec.label, n, len(data.queries))
    return run


def score_runs(
    col: CollectionBase,
    data: EvalData,
    specs: Sequence[ModeSpec],
    *,
    dataset: str,
    split: str,
    progress: Progress | None = None,
) -> EvalResult:
    results, per_query, runs, seconds = {}, {}, {}, {}
    for spec in specs:
        start = time.perf_counter()
        run = run_queries(col, data, spec, progress=progress)
        seconds[spec.label] = round(time.perf_counter() - start, 2)
        runs[spec.label] = run
        results[spec.label], per_query[spec.label] = evaluate_run(data.qrels, run, METRICS)
    return EvalResult(
        dataset,
        split,
        results,
        per_query,
        runs,
        significance(data.qrels, runs),
        seconds,
        len(data.queries),
        data.problems,
        col.name,
        data,
    )


def open_or_build(
    folder: Path,
    *,
    collection: str | None,
    need_vectors: bool,
    encoder: str,
    chunker: Chunker | None = None,
    progress: Progress | None = None,
) -> tuple[CollectionBase, float]:
    """The collection of a BEIR corpus (cut by ``chunker`` if given), built or completed. Returns it and
    the build time.

    An existing collection is reused when it holds documents of this corpus only: the documents it
    lacks are added (an interrupted build resumes). One that holds other documents, or lacks the vectors
    a dense mode needs, is an error: a user's collection is never deleted or replaced here.
    """
    from textlens.corpus import read_documents

    name = collection or f"beir-{folder.resolve().name}"
    try:
        col = open_collection(name)
    except CollectionNotFound:
        col = create_collection(name, encoder=encoder if need_vectors else None)
    have, corpus = col.document_ids(), {d.id for d in read_documents(folder, format="beir")}
    if have:
        _check_reusable(col, have - corpus, folder, need_vectors)
    missing = corpus - have
    if not missing:  # complete: nothing to write, so no write lock either
        return col, 0.0
    start = time.perf_counter()
    docs = (d for d in read_documents(folder, format="beir") if d.id in missing)
    cb = (lambda stage, done, _t: progress(f"index ({stage})", done, len(missing))) if progress else None
    col.add(chunker(docs) if chunker is not None else docs, progress=cb)
    return col, round(time.perf_counter() - start, 2)


def _check_reusable(col: CollectionBase, foreign: set[str], folder: Path, need_vectors: bool) -> None:
    hint = "Name another collection (--collection), or delete this one first (textlens collections delete NAME)."
    api_hint = "Name another collection, or delete this one first."
    if need_vectors and col.manifest.get("encoder") is None:
        col.close()
        raise CollectionConflict(
            f"collection {col.name!r} has no vectors, and dense or hybrid search needs them",
            hint=hint,
            api_hint=api_hint,
        )
    if foreign:
        col.close()
        raise CollectionConflict(
            f"collection {col.name!r} holds {len(foreign)} document(s) that are not in {folder} "
            f"(e.g. {sorted(foreign)[:3]}); it is not this corpus's collection",
            hint=hint,
            api_hint=api_hint,
        )


def evaluate_beir(
    folder: str | Path,
    specs: Sequence[ModeSpec],
    *,
    split: str = "test",
    collection: str | None = None,
    encoder: str = DEFAULT_ENCODER,
    progress: Progress | None = None,
) -> EvalResult:
    """Evaluate search modes on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/{split}.tsv)."""
    folder = Path(folder)
    _, queries_path, qrels_path = beir_paths(folder, split)
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    need_vectors = any(s.mode != "keyword" for s in specs)
    col, build_s = open_or_build(
        folder, collection=collection, need_vectors=need_vectors, encoder=encoder, progress=progress
    )
    with col:
        data = reconcile(queries, qrels, col.document_ids())
        result = score_runs(col, data, specs, dataset=folder.resolve().name, split=split, progress=progress)
    result.seconds["index"] = build_s
    return result


def evaluate_collection(
    name: str,
    qrels_path: str | Path,
    queries_path: str | Path,
    specs: Sequence[ModeSpec],
    *,
    progress: Progress | None = None,
) -> EvalResult:
    """Evaluate search modes on an existing collection with the user's own queries and judgements."""
    queries, qrels = load_queries(Path(queries_path)), load_qrels(Path(qrels_path))
    with open_collection(name) as col:
        data = reconcile(queries, qrels, col.document_ids())
        return score_runs(col, data, specs, dataset=name, split=Path(qrels_path).stem, progress=progress)


def evaluate(
    source: str | Path,
    *,
    modes: Sequence[str | ModeSpec] = ("keyword", "dense", "hybrid"),
    queries: str | Path | None = None,
    qrels: str | Path | None = None,
    split: str = "test",
    collection: str | None = None,
    encoder: str = DEFAULT_ENCODER,
    progress: Progress | None = None,
) -> EvalResult:
    """Evaluate search modes the way IR research does: nDCG@10, MRR@10, Recall@100 and significance tests.

    Args:
        source: a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``; its collection is built
            or reused), or the name of a collection of yours, with ``queries`` and ``qrels`` files.
        modes: ``keyword``, ``dense``, ``hybrid``, or :class:`ModeSpec` objects (fusion, reranker, BM25...).
        queries: a JSONL file of queries, for a collection of yours.
        qrels: a TREC or TSV file of judgements, for a collection of yours.
        split: the BEIR split whose judgements count.
        collection: for a BEIR folder, the collection to build or reuse.
        encoder: for a BEIR folder, the encoder of a collection it builds.
        progress: ``progress(stage, done, total)`` while it indexes and searches.

    Examples:
        >>> result = evaluate("../shared/data/beir/scifact", modes=["keyword"])   # doctest: +SKIP
        >>> result.results["keyword"]["ndcg@10"]                                  # doctest: +SKIP
        0.6952...
    """
    specs = [m if isinstance(m, ModeSpec) else ModeSpec(m) for m in modes]
    if (queries is None) != (qrels is None):
        raise InputError("give both queries and qrels, or neither (a BEIR folder has its own)")
    if queries is not None:
        return evaluate_collection(str(source), qrels, queries, specs, progress=progress)  # type: ignore[arg-type]
    return evaluate_beir(source, specs, split=split, collection=collection, encoder=encoder, progress=progress)
