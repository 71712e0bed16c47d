"""What keyword extraction returns (:class:`Keyword`, :class:`KeywordResult`) and the two ways of diversifying a
ranking (MMR, Max Sum Similarity) that the embedding and the language-model methods share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textlens.keywords.candidates import Candidate


@dataclass
class Keyword:
    """A keyword of one document.

    Attributes:
        phrase: as written in the text (its most frequent form).
        score: cosine similarity between the phrase and the document.
        spans: ``(start, end)`` character offsets of each occurrence.
        variants: other forms merged into this one (same stems), e.g. "optimized".
        grounded: whether it occurs in the text (a language model's keyword may not; it then has no spans).
    """

    phrase: str
    score: float
    spans: list[tuple[int, int]]
    variants: list[str] = field(default_factory=list)
    grounded: bool = True

    def to_dict(self) -> dict:
        return {
            "keyword": self.phrase,
            "score": round(self.score, 4),
            "spans": [list(s) for s in self.spans],
            "variants": self.variants,
            "grounded": self.grounded,
        }


@dataclass
class KeywordResult:
    """The keywords of one document; ``note`` says why there are none (empty, too short)."""

    text: str
    keywords: list[Keyword]
    note: str | None = None

    def _repr_html_(self) -> str:
        """The ``keywords --html`` page for this one document (Jupyter shows it inline)."""
        from textlens.keywords.render import keywords_html

        return keywords_html([self], ["document"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI's ``--json`` lines and of ``POST /api/keywords``."""
        return {"keywords": [k.to_dict() for k in self.keywords], "note": self.note}


def as_keyword(cand: Candidate, score: float) -> Keyword:
    phrase = cand.phrase
    variants = [f for f in cand.forms if f.lower() != phrase.lower()]
    return Keyword(phrase, score, list(cand.spans), variants)


def mmr(sims: np.ndarray, vecs: np.ndarray, top_n: int, diversity: float) -> list[int]:
    """Maximal Marginal Relevance (Carbonell and Goldstein, SIGIR 1998): pick, one at a time,
    the candidate maximising ``(1 - diversity) * sim(doc) - diversity * max sim(picked)``.
    ``sims``: each candidate's similarity to the document; ``vecs``: unit candidate embeddings."""
    picked = [int(np.argmax(sims))]
    rest = [j for j in range(len(sims)) if j != picked[0]]
    pair = vecs @ vecs.T
    while rest and len(picked) < top_n:
        redundancy = pair[np.ix_(rest, picked)].max(axis=1)
        scores = (1 - diversity) * sims[rest] - diversity * redundancy
        best = rest[int(np.argmax(scores))]
        picked.append(best)
        rest.remove(best)
    return picked


def max_sum_similarity(sims: np.ndarray, vecs: np.ndarray, top_n: int, nr_candidates: int) -> list[int]:
    """Max Sum Similarity (KeyBERT's diversification): among the ``nr_candidates`` most similar
    to the document, the ``top_n`` whose pairwise similarities sum least (every combination)."""
    pool = list(np.argsort(-sims, kind="stable")[:nr_candidates])
    if len(pool) <= top_n:
        return pool
    pair = vecs[pool] @ vecs[pool].T
    combos = np.array(list(itertools.combinations(range(len(pool)), top_n)))
    totals = sum(pair[combos[:, a], combos[:, b]] for a, b in itertools.combinations(range(top_n), 2))
    return [pool[k] for k in combos[int(np.argmin(totals))]]
