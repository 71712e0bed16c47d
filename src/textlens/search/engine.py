"""Search a collection by keywords, by meaning, or both; then optionally rerank.

keyword -> BM25 top ``candidates``; dense -> cosine top ``candidates``;
hybrid -> both, fused by RRF or a convex combination; rerank -> a cross-encoder
re-scores the fused top ``candidates``. Every mode returns :class:`Results`.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from textlens.errors import InputError
from textlens.search.fusion import convex, rrf
from textlens.search.rerank import get_reranker
from textlens.search.rerank import rerank as rerank_hits
from textlens.search.results import Hit, Results, renumber
from textlens.search.retriever import Analyzer, Filters, Snapshot

MODES = ("keyword", "dense", "hybrid")


WORD_REST = re.compile(r"[^\W_]*")  # the rest of a run of letters and digits (Unicode)


def highlighter(analyzer: Analyzer, query: str) -> Callable[[str], tuple[list[str], list[tuple[int, int]]]]:
    """A function giving the query terms found in a text (analysed: stemmed, lowercased) and where.

    Only words that begin like a query term are analysed: stemming changes endings, never the
    first three letters. Those words are found with ``str.find`` of each three-letter start in
    the lower-cased text (a regular expression over the text costs twice as much), or, when
    lower-casing moves offsets (rare letters such as "İ"), with one case-blind expression.
    """
    wanted = set(analyzer.terms(query))
    starts = sorted({t[:3] for t in wanted})
    bigrams = list(dict.fromkeys(analyzer.bigrams(query)))

    @functools.cache
    def anycase() -> re.Pattern:  # compiled only for a text that needs it
        alternatives = "|".join(sorted(map(re.escape, starts), key=len, reverse=True))
        return re.compile(r"(?<![^\W_])(?:" + alternatives + r")[^\W_]*", re.IGNORECASE)

    def words(text: str) -> list[tuple[int, int, str]]:
        """(start, end, word) of each word of ``text`` that begins like a query term, in order."""
        folded = text.lower()
        if len(folded) != len(text):
            return [(*m.span(), m.group()) for m in anycase().finditer(text)] if starts else []
        found = set()
        for prefix in starts:
            i = folded.find(prefix)
            while i >= 0:
                if i == 0 or not folded[i - 1].isalnum():  # a word starts here
                    end = WORD_REST.match(folded, i).end()
                    found.add((i, end, folded[i:end]))
                i = folded.find(prefix, i + 1)
        return sorted(found)

    def find(text: str) -> tuple[list[str], list[tuple[int, int]]]:
        spans, matched = [], []
        for start, end, word in words(text):
            hit = [t for t in analyzer.word_terms(word) if t in wanted]
            if hit:
                spans.append((start, end))
                matched.extend(t for t in hit if t not in matched)
        for bigram in bigrams:
            start = text.find(bigram)
            if start >= 0 and bigram not in matched:
                matched.append(bigram)
            while start >= 0:
                spans.append((start, start + len(bigram)))
                start = text.find(bigram, start + 1)
        return matched, sorted(set(spans))

    return find


def check_options(mode: str, fusion: str, k: int, candidates: int, weights: Sequence[float]) -> None:
    """Refuse options no search can run with, naming the option."""
    if mode not in MODES:
        raise InputError(f"unknown search mode {mode!r}", hint="Use keyword, dense or hybrid.")
    if fusion not in ("rrf", "convex"):
        raise InputError(f"unknown fusion {fusion!r}", hint="Use rrf or convex.")
    if k <= 0 or candidates <= 0:
        raise InputError(f"k and candidates must be positive, got k={k}, candidates={candidates}")
    if len(weights) != 2 or not all(isinstance(w, int | float) and math.isfinite(w) and w >= 0 for w in weights):
        raise InputError(f"weights must be two non-negative numbers (keyword, dense), got {list(weights)!r}")
    if sum(weights) <= 0:
        raise InputError("fusion weights sum to 0: no retriever would count", hint="Give at least one positive weight.")


def search(
    snap: Snapshot,
    query: str,
    *,
    mode: str = "hybrid",
    k: int = 10,
    filters: Filters | None = None,
    rerank: str | Any | None = None,
    fusion: str = "rrf",
    weights: Sequence[float] = (1.0, 1.0),
    candidates: int = 100,
    group_by_document: bool = False,
    bm25: Sequence[float] | None = None,
    title_boost: float | None = None,
    highlight: bool = True,
    query_vector: Any = None,
    rerank_depth: int | None = None,
    rerank_weight: float = 1.0,
) -> Results:
    """Search a collection's read snapshot and return the top ``k`` hits.

    Args:
        snap: a :class:`~textlens.search.retriever.Snapshot` (``Collection.snapshot()``).
        mode: ``keyword``, ``dense`` or ``hybrid``.
        filters: metadata conditions (see :mod:`textlens.index.filters`).
        rerank: a cross-encoder id/folder or a :class:`Reranker`; re-scores the top ``candidates``.
        fusion: ``rrf`` (reciprocal rank fusion, k=60) or ``convex`` (min-max normalised scores).
        weights: (keyword, dense) weights for fusion.
        candidates: how many hits each retriever passes on to fusion or reranking.
        group_by_document: keep the best chunk per document.
        bm25: ``(k1, b)`` for keyword scoring (default tantivy's 1.2, 0.75; see :mod:`textlens.index.bm25`).
        title_boost: weight of the title's BM25 score added to the body's (``None``: the store's
            default, 0.25 for a collection; 0 turns it off; not with ``bm25``).
        highlight: find the matched query terms and their spans in each hit (evaluation turns it off).
        query_vector: the query's embedding, when the caller has it already (from the collection's
            encoder); dense search then skips encoding the query.
        rerank_depth: rerank only the first this many of the ``candidates`` (default: all of them); the
            hits below keep their first-stage order and score.
        rerank_weight: the reranker's share of the final score (1: its order alone; below 1, score
            interpolation with the first stage, both min-max normalised over the reranked hits).
    """
    check_options(mode, fusion, k, candidates, weights)
    start = time.perf_counter()
    # fusion and reranking look deeper than k; a single retriever needs only k
    depth = max(candidates, k) if mode == "hybrid" or rerank is not None else k
    depth *= 3 if group_by_document else 1
    allowed = snap.allowed(filters)
    kinds = {"keyword": ["keyword"], "dense": ["dense"], "hybrid": ["keyword", "dense"]}[mode]
    options = {"bm25": bm25, "vector": query_vector, "title_boost": title_boost}
    runs = {kind: snap.retriever(kind, **options).search(query, depth, allowed) for kind in kinds}
    ids = snap.ids({key for run in runs.values() for key in run})  # live in the snapshot
    runs = {name: {key: s for key, s in run.items() if key in ids} for name, run in runs.items()}
    if mode == "hybrid":
        named = [{str(key): s for key, s in run.items()} for run in runs.values()]
        fused = rrf(named, weights=weights) if fusion == "rrf" else convex(named, weights)
        ranked = [(int(key), s) for key, s in fused]
    else:
        ranked = sorted(runs[mode].items(), key=lambda kv: (-kv[1], ids[kv[0]]))
    # whole documents only for the hits that can still be returned
    ranked = ranked[: depth if group_by_document or rerank is not None else k]
    rows = snap.rows([key for key, _ in ranked])
    hits = [
        Hit(
            doc_id=rows[key]["id"],
            score=float(score),
            text=rows[key]["text"],
            title=rows[key]["title"],
            metadata=rows[key]["metadata"],
            parent=rows[key]["parent"],
            scores={name: run[key] for name, run in runs.items() if key in run},
        )
        for key, score in ranked
    ]
    results = Results(query, mode, renumber(hits))
    if group_by_document:
        results = results.group_by_document()
    if rerank is not None:
        if rerank_depth is not None and rerank_depth <= 0:
            raise InputError(f"rerank depth must be positive, got {rerank_depth}")
        if not 0.0 <= rerank_weight <= 1.0:
            raise InputError(
                f"rerank weight must be between 0 and 1, got {rerank_weight}",
                hint="1 orders by the reranker alone; 0.5 gives it and the first stage equal shares.",
            )
        top = min(rerank_depth or candidates, candidates)
        head = rerank_hits(get_reranker(rerank), query, results.hits[:top], top, rerank_weight)
        results = Results(query, f"{mode}+rerank", renumber(head + results.hits[top:candidates]))
    results.hits = renumber(results.hits[:k])
    if highlight:
        find = highlighter(snap.analyzer, query)
        for hit in results.hits:
            hit.matched_terms, hit.highlights = find(hit.text)
    results.took_ms = (time.perf_counter() - start) * 1000
    return results
