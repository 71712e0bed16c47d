"""The keyword index: BM25 over a tantivy index in the collection directory.

Each passage is indexed as one field ``body`` (title and text together, as
BEIR's "flat" BM25 baselines do), analysed with a simple tokenizer, lowercasing,
the language's stop words and Snowball stemmer. Chinese, Japanese and Korean
runs are also indexed as overlapping character bigrams in a field ``cjk``, so
that queries in those scripts find hits without a word segmenter. The title is
indexed once more in a field ``title``: a search adds ``title_boost`` times the
title's BM25 score to the body's (a title boost; :data:`TITLE_BOOST` by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class KeywordHit:
    key: int
    score: float


TITLE_BOOST = 0.25
"""The default weight of a title match: chosen on SciFact's train queries, where it lifts BM25's
nDCG@10 from 0.6957 to 0.7024 (``benchmarks/title_boost.py``; test queries were never used)."""


def _schema(titles: bool) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name="textlens", index_option="position")
    builder.add_text_field("cjk", tokenizer_name="whitespace", index_option="freq")
    if titles:
        builder.add_text_field("title", tokenizer_name="textlens", index_option="freq")
    return builder.build()


def check_title_boost(boost: float) -> float:
    if not isinstance(boost, int | float) or not math.isfinite(boost) or boost < 0:
        raise InputError(f"title_boost must be a non-negative number, got {boost!r}", hint="0 turns it off.")
    return float(boost)


class KeywordIndex:
    """BM25 search over passages identified by integer keys.

    ``has_titles`` is False for an index written before titles had a field of their own: it
    searches as before, without the title boost, until the collection is built again.
    """

    def __init__(self, path: Path, language: str = "english") -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.has_titles = True
        self.schema = _schema(titles=True)
        try:
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            self.has_titles = False
            self.schema = _schema(titles=False)
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.analysis = Terms(language)
        self.analyzer = self.analysis.analyzer
        self.terms, self.word_terms = self.analysis.terms, self.analysis.word_terms
        self.index.register_tokenizer("textlens", self.analyzer)
        self._writer: tantivy.IndexWriter | None = None
        self._seen_generation = -1

    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        return self._writer

    def add(self, keys: Sequence[int], bodies: Sequence[str], titles: Sequence[str] | None = None) -> None:
        """Index passages: ``bodies`` hold title and text together; ``titles`` the titles alone."""
        writer = self.writer()
        titles = [""] * len(keys) if titles is None else titles
        for key, body, title in zip(keys, bodies, titles, strict=True):
            doc = tantivy.Document()
            doc.add_unsigned("key", key)
            doc.add_text("body", body)
            if title and self.has_titles:
                doc.add_text("title", title)
            bigrams = cjk_bigrams(body)
            if bigrams:
                doc.add_text("cjk", " ".join(bigrams))
            writer.add_document(doc)

    def delete(self, keys: Sequence[int]) -> None:
        """Delete ``keys`` (by a term-set query: a term built from a Python int does not match the
        unsigned ``key`` field, so ``delete_documents_by_term`` would silently delete nothing)."""
        keys = list(keys)
        writer = self.writer()
        for start in range(0, len(keys), 10_000):
            writer.delete_documents_by_query(
                tantivy.Query.term_set_query(self.schema, "key", keys[start : start + 10_000])
            )

    def delete_from(self, first_key: int) -> None:
        """Delete keys >= ``first_key`` (written by a batch that never committed)."""
        query = tantivy.Query.range_query(self.schema, "key", tantivy.FieldType.Unsigned, first_key, None)
        self.writer().delete_documents_by_query(query)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        self.index.reload()

    def reload_for(self, generation: int) -> None:
        """See the commits made up to a collection generation, by this process or another one
        (tantivy's searchers only see what was there at the last reload)."""
        if generation != self._seen_generation:
            self.index.reload()
            self._seen_generation = generation

    def query(self, text: str, keys: Sequence[int] | None = None, title_boost: float = 0.0) -> tantivy.Query | None:
        terms = self.terms(text)
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "body", t)) for t in terms]
        if title_boost > 0 and self.has_titles:
            clauses += [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "title", t), title_boost),
                )
                for t in terms
            ]
        clauses += [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "cjk", b)) for b in cjk_bigrams(text)]
        if not clauses:
            return None
        query = tantivy.Query.boolean_query(clauses)
        if keys is not None:
            allowed = tantivy.Query.term_set_query(self.schema, "key", list(keys))
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, allowed)])
        return query

    def search(
        self, text: str, k: int, *, keys: Sequence[int] | None = None, title_boost: float = 0.0
    ) -> list[KeywordHit]:
        """Top ``k`` keys by BM25 (plus ``title_boost`` times the title's), optionally restricted to ``keys``."""
        query = self.query(text, keys, title_boost)
        if query is None or k <= 0:
            return []
        searcher = self.index.searcher()
        hits = searcher.search(query, k).hits
        found = searcher.fast_field_values("key", [addr for _, addr in hits])
        return [KeywordHit(int(key), float(score)) for (score, _), key in zip(hits, found, strict=True)]

    def num_docs(self) -> int:
        return self.index.searcher().num_docs
