"""Search a collection by keywords, by meaning, or both; then optionally rerank.

keyword -> BM25 top ``candidates``; dense -> cosine top ``candidates``;
hybrid -> both, fused by RRF or a convex combination; rerank -> a cross-encoder
re-scores the fused top ``candidates``. Every mode returns :class:`Results`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Any

from textlens.search.fusion import convex, rrf
from textlens.search.options import SearchOptions
from textlens.search.rerank import get_reranker
from textlens.search.rerank import rerank as rerank_hits
from textlens.search.results import Hit, Results, renumber
from textlens.search.retriever import Analyzer, Snapshot

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


def search(snap: Snapshot, query: str, options: SearchOptions | None = None, *, query_vector: Any = None) -> Results:
    """Search a collection's read snapshot and return the top ``options.k`` hits.

    Args:
        snap: a :class:`~textlens.search.retriever.Snapshot` (a collection's ``snapshot()``).
        options: how to search (:class:`~textlens.search.options.SearchOptions`; each field's help says what it
            does); default ``SearchOptions()``.
        query_vector: the query's embedding, when the caller has it already (from the collection's encoder);
            dense search then skips encoding the query.
    """
    o = options or SearchOptions()
    mode, k, filters, rerank, candidates, weights = o.mode, o.k, o.filters, o.rerank, o.candidates, o.weights
    group_by_document, bm25, title_boost = o.group_by_document, o.bm25, o.title_boost
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
        fused = rrf(named, weights=weights) if o.fusion == "rrf" else convex(named, weights)
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
        top = min(o.rerank_depth or candidates, candidates)
        head = rerank_hits(get_reranker(rerank), query, results.hits[:top], top, o.rerank_weight)
        results = Results(query, f"{mode}+rerank", renumber(head + results.hits[top:candidates]))
    results.hits = renumber(results.hits[:k])
    if o.highlight:
        find = highlighter(snap.analyzer, query)
        for hit in results.hits:
            hit.matched_terms, hit.highlights = find(hit.text)
    results.took_ms = (time.perf_counter() - start) * 1000
    return results
