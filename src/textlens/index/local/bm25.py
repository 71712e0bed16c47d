"""BM25 with your own k1 and b.

tantivy scores with fixed k1=1.2 and b=0.75. For other values, the keyword index
first takes tantivy's best ``depth`` documents (2,000, or 20 x k if more: every matching
document when fewer match), then scores those exactly with

    idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len)),
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)),

over the same analysed terms (and CJK bigrams) that tantivy indexed. Term
frequencies come from analysing the stored texts of the candidates (memoised);
document lengths and their average are computed once per collection generation.
A document outside tantivy's top ``depth`` cannot enter the results: with
k1/b near the defaults this changes nothing measurable (see the evaluation sweep).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from textlens.index.analysis import check_params, cjk_bigrams
from textlens.index.local.keyword import KeywordHit, KeywordIndex

DEPTH = 2000
MEMO = 100_000


def bm25_weight(tf: np.ndarray, idf: float, rel_length: np.ndarray, k1: float, b: float) -> np.ndarray:
    """Okapi BM25's weight of one query term in each document (Robertson and Zaragoza, "The
    Probabilistic Relevance Framework: BM25 and Beyond", 2009): ``idf * tf * (k1 + 1) /
    (tf + k1 * (1 - b + b * len / avg_len))``, with ``rel_length = len / avg_len``."""
    denominator = tf + k1 * (1 - b + b * rel_length)
    return np.divide(idf * tf * (k1 + 1), denominator, out=np.zeros_like(tf), where=tf > 0)


class BM25Rescorer:
    """Exact BM25 with chosen k1 and b over tantivy's candidates.

    Args:
        index: the collection's keyword index.
        bodies: texts as indexed, by key (only live keys are asked for).
        all_keys: every live key (for document lengths).
    """

    def __init__(
        self, index: KeywordIndex, bodies: Callable[[Sequence[int]], dict[int, str]], all_keys: Sequence[int]
    ) -> None:
        self.index = index
        self.bodies = bodies
        self._tf: dict[int, tuple[Counter, int, int]] = {}
        lengths_body, lengths_cjk = [], []
        keys = list(all_keys)
        for start in range(0, len(keys), 2000):
            for key, text in bodies(keys[start : start + 2000]).items():
                _, nb, nc = self._analyse(key, text)
                lengths_body.append(nb)
                lengths_cjk.append(nc)
        self.n_docs = max(1, len(lengths_body))
        self.avg = {
            "body": max(1e-9, float(np.mean(lengths_body or [0]))),
            "cjk": max(1e-9, float(np.mean(lengths_cjk or [0]))),
        }
        self._df: dict[tuple[str, str], int] = {}

    def _analyse(self, key: int, text: str) -> tuple[Counter, int, int]:
        found = self._tf.get(key)
        if found is None:
            terms = self.index.terms(text)
            bigrams = cjk_bigrams(text)
            counts = Counter(("body", t) for t in terms)
            counts.update(("cjk", g) for g in bigrams)
            found = (counts, len(terms), len(bigrams))
            if len(self._tf) < MEMO:
                self._tf[key] = found
        return found

    def _idf(self, searcher, field: str, term: str) -> float:
        df = self._df.get((field, term))
        if df is None:
            df = self._df[(field, term)] = int(searcher.doc_freq(field, term))
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def search(
        self, text: str, k: int, bm25: Sequence[float], *, keys: Sequence[int] | None = None
    ) -> list[KeywordHit]:
        k1, b = check_params(bm25)
        depth = max(DEPTH, 20 * k)
        candidates = self.index.search(text, depth, keys=keys)
        if not candidates:
            return []
        query = [("body", t) for t in self.index.terms(text)] + [("cjk", g) for g in cjk_bigrams(text)]
        searcher = self.index.index.searcher()
        idf = {q: self._idf(searcher, *q) for q in set(query)}
        missing = [h.key for h in candidates if h.key not in self._tf]
        texts = self.bodies(missing) if missing else {}
        stats = [self._analyse(h.key, texts.get(h.key, "")) for h in candidates]
        length = {"body": np.array([s[1] for s in stats], float), "cjk": np.array([s[2] for s in stats], float)}
        scores = np.zeros(len(candidates))
        for q in query:
            tf = np.array([s[0].get(q, 0) for s in stats], dtype=float)
            scores += bm25_weight(tf, idf[q], length[q[0]] / self.avg[q[0]], k1, b)
        ranked = sorted(zip(candidates, scores, strict=True), key=lambda hs: (-hs[1], hs[0].key))
        return [KeywordHit(h.key, float(s)) for h, s in ranked[:k]]
