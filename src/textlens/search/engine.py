"""Search a collection by keywords, by meaning, or both; then optionally rerank.

keyword -> BM25 top ``candidates``; dense -> cosine top ``candidates``;
hybrid -> both, fused by RRF or a convex combination; rerank -> a cross-encoder
re-scores the fused top ``candidates``. Every mode returns :class:`Results`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import regex

from textlens.errors import InputError
from textlens.index.filters import Filters
from textlens.search.fusion import convex, rrf
from textlens.search.rerank import get_reranker
from textlens.search.rerank import rerank as rerank_hits
from textlens.search.results import Hit, Results, renumber

if TYPE_CHECKING:
    from textlens.index.collection import Collection

MODES = ("keyword", "dense", "hybrid")


def _keyword(
    col: Collection, query: str, n: int, allowed: list[int] | None, bm25: Sequence[float] | None
) -> dict[int, float]:
    from textlens.index.bm25 import TANTIVY_DEFAULT, check_params

    if bm25 is None or check_params(bm25) == TANTIVY_DEFAULT:
        hits = col.keyword.search(query, n, keys=allowed)
    else:
        hits = col.bm25_rescorer().search(query, n, bm25, keys=allowed)
    return {h.key: h.score for h in hits}


def _dense(col: Collection, query: str, n: int, mask: Any) -> dict[int, float]:
    if col.vectors is None:
        raise InputError(
            f"collection {col.name!r} has no vectors (built without an encoder)",
            hint="Use --mode keyword, or rebuild the collection with an encoder.",
        )
    qv = col.encoder.encode_queries([query])[0]
    return dict(col.vectors.search(qv, n, mask=mask))


def highlighter(col: Collection, query: str) -> Callable[[str], tuple[list[str], list[tuple[int, int]]]]:
    """A function giving the query terms found in a text (analysed: stemmed, lowercased) and where.

    Only words that begin like a query term are analysed: stemming changes
    endings, never the first three letters.
    """
    from textlens.index.keyword import cjk_bigrams

    wanted = set(col.keyword.terms(query))
    starts = sorted({regex.escape(t[:3]) for t in wanted}, key=len, reverse=True)
    candidates = regex.compile(r"(?i)(?<![\p{L}\p{N}])(?:" + "|".join(starts) + r")[\p{L}\p{N}]*") if starts else None
    bigrams = list(dict.fromkeys(cjk_bigrams(query)))

    def find(text: str) -> tuple[list[str], list[tuple[int, int]]]:
        spans, matched = [], []
        for m in candidates.finditer(text) if candidates else ():
            hit = [t for t in col.keyword.word_terms(m.group()) if t in wanted]
            if hit:
                spans.append((m.start(), m.end()))
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


def search(
    col: Collection,
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
) -> Results:
    """Search ``col`` and return the top ``k`` hits.

    Args:
        mode: ``keyword``, ``dense`` or ``hybrid``.
        filters: metadata conditions (see :mod:`textlens.index.filters`).
        rerank: a cross-encoder id/folder or a :class:`Reranker`; re-scores the top ``candidates``.
        fusion: ``rrf`` (reciprocal rank fusion, k=60) or ``convex`` (min-max normalised scores).
        weights: (keyword, dense) weights for fusion.
        candidates: how many hits each retriever passes on to fusion or reranking.
        group_by_document: keep the best chunk per document.
        bm25: ``(k1, b)`` for keyword scoring (default tantivy's 1.2, 0.75; see :mod:`textlens.index.bm25`).
    """
    if mode not in MODES:
        raise InputError(f"unknown search mode {mode!r}", hint="Use keyword, dense or hybrid.")
    if fusion not in ("rrf", "convex"):
        raise InputError(f"unknown fusion {fusion!r}", hint="Use rrf or convex.")
    if k <= 0:
        raise InputError(f"k must be positive, got {k}")
    start = time.perf_counter()
    # fusion and reranking look deeper than k; a single retriever needs only k
    depth = max(candidates, k) if mode == "hybrid" or rerank is not None else k
    depth *= 3 if group_by_document else 1
    with col.store.snapshot() as db:
        allowed, mask = col.allowed_mask(filters, db)
        # keyword hits may include keys deleted but not yet purged: fetch a few more, then drop dead ones
        extra = len(col.store.tombstones())
        runs: dict[str, dict[int, float]] = {}
        if mode in ("keyword", "hybrid"):
            runs["keyword"] = _keyword(col, query, depth + extra, allowed, bm25)
        if mode in ("dense", "hybrid"):
            runs["dense"] = _dense(col, query, depth, mask)
        keys = {key for run in runs.values() for key in run}
        rows = col.store.rows(keys, db)
    runs = {name: {key: s for key, s in run.items() if key in rows} for name, run in runs.items()}
    if mode == "hybrid":
        named = [{str(key): s for key, s in run.items()} for run in runs.values()]
        fused = rrf(named, weights=weights) if fusion == "rrf" else convex(named, weights)
        ranked = [(int(key), s) for key, s in fused]
    else:
        ranked = sorted(next(iter(runs.values())).items(), key=lambda kv: (-kv[1], rows[kv[0]]["id"]))
    hits = []
    for key, score in ranked[:depth]:
        row = rows[key]
        hits.append(
            Hit(
                doc_id=row["id"],
                score=float(score),
                text=row["text"],
                title=row["title"],
                metadata=row["metadata"],
                parent=row["parent"],
                scores={name: run[key] for name, run in runs.items() if key in run},
            )
        )
    results = Results(query, mode, renumber(hits))
    if group_by_document:
        results = results.group_by_document()
    if rerank is not None:
        reranker = get_reranker(rerank)
        results = Results(query, f"{mode}+rerank", rerank_hits(reranker, query, results.hits[:candidates], k))
    results.hits = renumber(results.hits[:k])
    find = highlighter(col, query)
    for hit in results.hits:
        hit.matched_terms, hit.highlights = find(hit.text)
    results.took_ms = (time.perf_counter() - start) * 1000
    return results
