"""Keyword extraction, KeyBERT's method: embed a document and its candidate phrases,
rank candidates by cosine similarity to the document, then diversify (MMR or Max Sum).

What it adds: candidates are real spans of the text (see :mod:`.candidates`), so
keywords keep their word order and casing and can be highlighted; near-duplicates
sharing stems merge into one keyword; Chinese and Japanese text is segmented; and
many documents take one embedding pass for all their candidates, through the
shared embedding cache.

Example:
    >>> [kw.phrase for kw in extract_keywords(["Tokenizers split text into tokens ..."])[0].keywords]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textlens.config import DEFAULT_ENCODER
from textlens.embed import EmbeddingCache, Encoder, embed_with_cache, get_encoder
from textlens.errors import InputError
from textlens.keywords.candidates import Candidate, Vocabulary, candidates, given_candidates
from textlens.progress import Progress, renamed

SEED_WEIGHT = 0.25  # the document embedding counts 3 to the seed keywords' 1, as in KeyBERT
MAX_SUM_COMBINATIONS = 2_000_000


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


def extract_keywords(
    docs: Sequence[str],
    *,
    encoder: str | Encoder = DEFAULT_ENCODER,
    ngram_range: tuple[int, int] = (1, 1),
    top_n: int = 5,
    languages: Sequence[str] = ("english",),
    stop_words: Sequence[str] | None = None,
    candidates_given: Sequence[str] | None = None,
    diversity: float | None = None,
    max_sum: bool = False,
    nr_candidates: int = 20,
    seed_keywords: Sequence[str] | None = None,
    merge: bool = True,
    order: str = "score",
    cache: bool = True,
    progress: Progress | None = None,
) -> list[KeywordResult]:
    """The ``top_n`` keywords of each document.

    Args:
        docs: the documents; all are embedded in one pass with all their candidates.
        ngram_range: fewest and most words per keyphrase.
        languages: whose stop words and stemmer to use (several for a mixed corpus).
        stop_words: your own stop word list, instead of the languages' lists.
        candidates_given: only these phrases (those found in a document) are ranked.
        diversity: Maximal Marginal Relevance with this weight (0 = plain ranking, 1 = most diverse).
        max_sum: Max Sum Similarity: the ``top_n`` least similar to each other among the
            ``nr_candidates`` most similar to the document.
        seed_keywords: steer the ranking toward these (mixed into the document embedding).
        merge: merge candidates with the same stems ("optimize", "optimization").
        order: ``score`` (best first) or ``text`` (order of first occurrence).
        cache: read and write the shared embedding cache.
        progress: called as ``progress(stage, done, total)`` while embedding.
    """
    _check(ngram_range, top_n, diversity, max_sum, nr_candidates, order)
    vocab = Vocabulary(languages, stop_words)
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    lo, hi = ngram_range
    per_doc: list[list[Candidate]] = []
    results: list[KeywordResult] = []
    for text in docs:
        if not text.strip():
            per_doc.append([])
            results.append(KeywordResult(text, [], "the document is empty"))
            continue
        if candidates_given:
            found = given_candidates(text, candidates_given, vocab)
        else:
            found = candidates(text, vocab, ngram_range, merge=merge)
        per_doc.append(found)
        note = None
        if not found:
            note = (
                "none of the given candidates occurs in the document"
                if candidates_given
                else f"no candidate phrase of {lo if lo == hi else f'{lo}-{hi}'} word(s) without stop words at its ends"
                f" (the document has {len(text.split())} words); lower --ngram-range or check the language"
            )
        results.append(KeywordResult(text, [], note))

    phrases = list(dict.fromkeys(c.phrase for cands in per_doc for c in cands))
    live = [i for i, cands in enumerate(per_doc) if cands]
    store = EmbeddingCache() if cache else None
    try:
        doc_vecs = embed_with_cache(
            enc, [docs[i] for i in live], store, progress=renamed(progress, "embedding documents")
        )
        phrase_vecs = embed_with_cache(enc, phrases, store, progress=renamed(progress, "embedding candidate phrases"))
    finally:
        if store is not None:
            store.close()
    row = {p: n for n, p in enumerate(phrases)}
    seeds = [s for s in seed_keywords or () if s.strip()]
    if seeds and len(doc_vecs):
        seed_vec = enc.encode(seeds).mean(axis=0)
        doc_vecs = (1 - SEED_WEIGHT) * doc_vecs + SEED_WEIGHT * seed_vec
        doc_vecs /= np.linalg.norm(doc_vecs, axis=1, keepdims=True)

    for doc_vec, i in zip(doc_vecs, live, strict=True):
        cands = per_doc[i]
        vecs = phrase_vecs[[row[c.phrase] for c in cands]]
        sims = vecs @ doc_vec
        if max_sum:
            picked = max_sum_similarity(sims, vecs, top_n, nr_candidates)
        elif diversity:
            picked = mmr(sims, vecs, top_n, diversity)
        else:
            picked = list(np.argsort(-sims, kind="stable")[:top_n])
        kws = sorted((_keyword(cands[j], float(sims[j])) for j in picked), key=lambda k: -k.score)
        if order == "text":
            kws.sort(key=lambda k: k.spans[0][0])
        results[i].keywords = kws
    return results


def _check(ngram_range, top_n, diversity, max_sum, nr_candidates, order) -> None:
    lo, hi = ngram_range
    if lo < 1 or hi < lo:
        raise InputError(
            f"ngram range ({lo}, {hi}) is not a range of phrase lengths",
            hint="Give the fewest and the most words per phrase, e.g. --ngram-range 1 2.",
            api_hint="Give the fewest and the most words per phrase, e.g. ngram_range [1, 2].",
        )
    if top_n < 1:
        raise InputError(f"--top-n must be at least 1 (got {top_n})")
    if diversity is not None and not 0 <= diversity <= 1:
        raise InputError(f"diversity must lie in [0, 1] (got {diversity})", hint="0.5 is a common choice.")
    if max_sum and diversity:
        raise InputError("choose one way to diversify: diversity (MMR) or max_sum")
    if max_sum and nr_candidates < top_n:
        raise InputError(f"--nr-candidates ({nr_candidates}) must be at least --top-n ({top_n}) for --max-sum")
    if max_sum and math.comb(nr_candidates, top_n) > MAX_SUM_COMBINATIONS:
        raise InputError(
            f"--max-sum would compare {math.comb(nr_candidates, top_n):,} combinations",
            hint="Lower --nr-candidates or --top-n, or use --diversity (MMR), which scales to any size.",
            api_hint="Lower nr_candidates or top_n, or use diversity (MMR), which scales to any size.",
        )
    if order not in ("score", "text"):
        raise InputError(f"unknown order {order!r}", hint="Use score or text.")


def _keyword(cand: Candidate, score: float) -> Keyword:
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
