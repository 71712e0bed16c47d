"""Text analysis shared by every backend's keyword scoring: the analyzer, terms, CJK bigrams, BM25 parameters.

The local engine (tantivy) indexes these terms; the PostgreSQL backend stores the same terms in tables and scores
them in SQL. Both read the analysis and the parameter checks from here, so the two agree term for term.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import regex
import tantivy

from textlens.errors import InputError

STEMMERS = (
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
)


# tantivy ships stop word lists for these stemmer languages
STOPWORDS = tuple(lang for lang in STEMMERS if lang not in {"arabic", "greek", "romanian", "tamil", "turkish"})


_CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping bigrams of each CJK run (a one-character run stays a unigram)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return out


def analyzer(language: str) -> tantivy.TextAnalyzer:
    """The text analyser for a language (``none`` for no stemming or stop words)."""
    if language != "none" and language not in STEMMERS:
        raise InputError(
            f"no stemmer for language {language!r}", hint="Languages: " + ", ".join(STEMMERS) + ", or none."
        )
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
    )
    if language in STOPWORDS:
        builder = builder.filter(tantivy.Filter.stopword(language))
    if language in STEMMERS:
        builder = builder.filter(tantivy.Filter.stemmer(language))
    return builder.build()


class Terms:
    """A language's text analysis: the terms the keyword index holds for a text, and for one word."""

    def __init__(self, language: str) -> None:
        self.analyzer = analyzer(language)
        self._word_terms: dict[str, list[str]] = {}

    def terms(self, text: str) -> list[str]:
        """The analysed terms of ``text`` (lowercased, stop words out, stemmed)."""
        return self.analyzer.analyze(text)

    def word_terms(self, word: str) -> list[str]:
        """:meth:`terms` of one word, memoised (highlighting analyses the same words again and again)."""
        terms = self._word_terms.get(word)
        if terms is None:
            if len(self._word_terms) > 200_000:
                self._word_terms.clear()
            terms = self._word_terms[word] = self.analyzer.analyze(word)
        return terms

    @staticmethod
    def bigrams(text: str) -> list[str]:
        return cjk_bigrams(text)


TITLE_BOOST = 0.25
"""The default weight of a title match: chosen on SciFact's train queries, where it lifts BM25's
nDCG@10 from 0.6957 to 0.7024 (``benchmarks/title_boost.py``; test queries were never used)."""


def check_title_boost(boost: float) -> float:
    if not isinstance(boost, int | float) or not math.isfinite(boost) or boost < 0:
        raise InputError(f"title_boost must be a non-negative number, got {boost!r}", hint="0 turns it off.")
    return float(boost)


TANTIVY_DEFAULT = (1.2, 0.75)


def check_params(bm25: Sequence[float]) -> tuple[float, float]:
    try:
        k1, b = (float(x) for x in bm25)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bm25 must be two numbers k1,b (got {bm25!r})", hint="For example 0.9,0.4.") from exc
    if not (0 <= k1 <= 10 and 0 <= b <= 1):
        raise InputError(f"bm25 k1={k1:g} b={b:g} is out of range", hint="k1 lies in [0, 10] and b in [0, 1].")
    return k1, b
