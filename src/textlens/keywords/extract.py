"""Keyword extraction: :func:`extract_keywords`, by KeyBERT's method (embed a document and its candidate phrases,
rank candidates by cosine similarity to the document, then diversify with MMR or Max Sum) or by a language model
(:mod:`.llm`).

What it adds: candidates are real spans of the text (see :mod:`.candidates`), so
keywords keep their word order and casing and can be highlighted; near-duplicates
sharing stems merge into one keyword; Chinese and Japanese text is segmented; and
many documents take one embedding pass for all their candidates, through the
shared embedding cache.

Example:
    >>> [kw.phrase for kw in extract_keywords(["Tokenizers split text into tokens ..."])[0].keywords]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from textlens.embed import EmbeddingCache, Encoder, embed_with_cache, get_encoder
from textlens.keywords.base import KeywordResult, as_keyword, max_sum_similarity, mmr
from textlens.keywords.candidates import Candidate, Vocabulary, candidates, given_candidates
from textlens.keywords.llm import llm_keywords
from textlens.keywords.options import KeywordOptions
from textlens.progress import Progress, renamed

SEED_WEIGHT = 0.25  # the document embedding counts 3 to the seed keywords' 1, as in KeyBERT


def extract_keywords(
    docs: Sequence[str],
    *,
    k: int = KeywordOptions.k,
    ngram_range: tuple[int, int] | None = KeywordOptions.ngram_range,
    languages: Sequence[str] = KeywordOptions.languages,
    stop_words: Sequence[str] | None = KeywordOptions.stop_words,
    candidates: Sequence[str] | None = KeywordOptions.candidates,
    diversity: float | None = KeywordOptions.diversity,
    max_sum: bool = KeywordOptions.max_sum,
    nr_candidates: int = KeywordOptions.nr_candidates,
    seed_keywords: Sequence[str] | None = KeywordOptions.seed_keywords,
    merge: bool = KeywordOptions.merge,
    order: str = KeywordOptions.order,
    encoder: str | Encoder = KeywordOptions.encoder,
    llm: str | Any | None = KeywordOptions.llm,
    llm_mode: str = KeywordOptions.llm_mode,
    ungrounded: str = KeywordOptions.ungrounded,
    threshold: float | None = KeywordOptions.threshold,
    cache: bool = True,
    on_result: Callable[[int, KeywordResult], None] | None = None,
    progress: Progress | None = None,
    top_n: int | None = None,
) -> list[KeywordResult]:
    """The ``k`` keywords of each document, each found in its text (spans, merged variants).

    Every option but the last four is a field of :class:`~textlens.keywords.options.KeywordOptions`, whose help
    says what it does; the defaults here are its defaults. With ``llm`` a language model finds them (see
    :mod:`textlens.keywords.llm`), and the list returned also says how many ``calls`` it took.

    Args:
        docs: the documents; all are embedded in one pass with all their candidates.
        cache: read and write the shared embedding cache.
        on_result: with ``llm``, called as ``on_result(index, result)`` as each document is done (to save
            finished work before a later document fails).
        progress: called as ``progress(stage, done, total)``.
        top_n: KeyBERT's name for ``k``, still taken (with a DeprecationWarning).
    """
    if top_n is not None:
        warnings.warn("extract_keywords(top_n=...) is now k=...", DeprecationWarning, stacklevel=2)
        k = top_n
    options = KeywordOptions(
        k=k,
        ngram_range=ngram_range,
        languages=tuple(languages),
        stop_words=tuple(stop_words) if stop_words is not None else None,
        candidates=tuple(candidates) if candidates is not None else None,
        diversity=diversity,
        max_sum=max_sum,
        nr_candidates=nr_candidates,
        seed_keywords=tuple(seed_keywords) if seed_keywords is not None else None,
        merge=merge,
        order=order,
        encoder=encoder,
        llm=llm,
        llm_mode=llm_mode,
        ungrounded=ungrounded,
        threshold=threshold,
    )
    return find_keywords(docs, options, cache=cache, on_result=on_result, progress=progress)


def find_keywords(
    docs: Sequence[str],
    options: KeywordOptions,
    *,
    cache: bool = True,
    on_result: Callable[[int, KeywordResult], None] | None = None,
    progress: Progress | None = None,
) -> list[KeywordResult]:
    """:func:`extract_keywords` with its options made (the CLI and the REST API call this)."""
    if options.llm is not None:
        return llm_keywords(docs, options, on_result=on_result, progress=progress)
    return _by_embedding(docs, options, cache=cache, progress=progress)


def _by_embedding(docs: Sequence[str], o: KeywordOptions, *, cache: bool, progress: Progress | None):
    """KeyBERT's method over all ``docs`` at once."""
    vocab = Vocabulary(o.languages, o.stop_words)
    enc = get_encoder(o.encoder) if isinstance(o.encoder, str) else o.encoder
    lo, hi = ngram_range = o.word_range
    per_doc: list[list[Candidate]] = []
    results: list[KeywordResult] = []
    for text in docs:
        if not text.strip():
            per_doc.append([])
            results.append(KeywordResult(text, [], "the document is empty"))
            continue
        if o.candidates:
            found = given_candidates(text, o.candidates, vocab)
        else:
            found = candidates(text, vocab, ngram_range, merge=o.merge)
        per_doc.append(found)
        note = None
        if not found:
            note = (
                "none of the given candidates occurs in the document"
                if o.candidates
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
    seeds = [s for s in o.seed_keywords or () if s.strip()]
    if seeds and len(doc_vecs):
        seed_vec = enc.encode(seeds).mean(axis=0)
        doc_vecs = (1 - SEED_WEIGHT) * doc_vecs + SEED_WEIGHT * seed_vec
        doc_vecs /= np.linalg.norm(doc_vecs, axis=1, keepdims=True)

    for doc_vec, i in zip(doc_vecs, live, strict=True):
        cands = per_doc[i]
        vecs = phrase_vecs[[row[c.phrase] for c in cands]]
        sims = vecs @ doc_vec
        if o.max_sum:
            picked = max_sum_similarity(sims, vecs, o.k, o.nr_candidates)
        elif o.diversity:
            picked = mmr(sims, vecs, o.k, o.diversity)
        else:
            picked = list(np.argsort(-sims, kind="stable")[: o.k])
        kws = sorted((as_keyword(cands[j], float(sims[j])) for j in picked), key=lambda kw: -kw.score)
        if o.order == "text":
            kws.sort(key=lambda k: k.spans[0][0])
        results[i].keywords = kws
    return results
