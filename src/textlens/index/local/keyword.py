"""The keyword index: BM25 over a tantivy index in the collection directory.

Each passage is indexed as one field ``body`` (title and text together, as
BEIR's "flat" BM25 baselines do), analysed with a simple tokenizer, lowercasing,
the language's stop words and Snowball stemmer. Chinese, Japanese and Korean
runs are also indexed as overlapping character bigrams in a field ``cjk``, so
that queries in those scripts find hits without a word segmenter. The title is
indexed once more in a field ``title``: a search adds ``title_boost`` times the
title's BM25 score to the body's (a title boost; :data:`textlens.index.analysis.TITLE_BOOST` by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from textlens.index.analysis import Terms, cjk_bigrams


@dataclass
class KeywordHit:
    key: int
    score: float


def _schema(titles: bool) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name="textlens", index_option="position")
    builder.add_text_field("cjk", tokenizer_name="whitespace", index_option="freq")
    if titles:
        builder.add_text_field("title", tokenizer_name="textlens", index_option="freq")
    return builder.build()


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
