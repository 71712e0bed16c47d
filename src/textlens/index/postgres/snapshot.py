"""Searching a PostgreSQL collection: a read snapshot (one ``REPEATABLE READ`` transaction), filters as SQL over
jsonb, tantivy's BM25 computed in SQL over the stored terms, and pgvector's cosine distance."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from textlens.errors import InputError
from textlens.index.analysis import TITLE_BOOST, check_title_boost, cjk_bigrams
from textlens.index.base import CollectionNotFound
from textlens.index.postgres.connection import REGISTRY, bm25_index

if TYPE_CHECKING:
    from textlens.index.postgres.collection import PgCollection

FIELDS = ("b", "t", "c")  # body (title + text), title, CJK bigrams
STATS = f"SELECT docs, tokens_b, tokens_t, tokens_c, generation FROM {REGISTRY}"  # a collection's, by id


def fieldnorm(length: int) -> int:
    """``length`` as tantivy (and Lucene) store a field's length in one byte: exact below 24, then
    a float with a 3-bit mantissa, rounded down (``SmallFloat.intToByte4`` and back)."""
    if length < _FREE:
        return length
    return _FREE + _int4_to_long(_long_to_int4(length - _FREE))


def _long_to_int4(i: int) -> int:
    bits = i.bit_length()
    if bits < 4:
        return i
    shift = bits - 4
    return ((i >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits, shift = i & 0x07, (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_FREE = 255 - _long_to_int4(2**31 - 1)  # 24


class PgAllowed:
    """What passes a filter: a SQL condition on the documents table and its parameters."""

    def __init__(self, where, params: list[Any]) -> None:
        self.where, self.params = where, params


def compile_pg_filters(filters, known: set[str]):
    """Filters (see :mod:`textlens.search.filters`) as a SQL condition over ``metadata`` (jsonb), with
    values passed as parameters only. Text compares as text, numbers as numbers, booleans as booleans."""
    from psycopg import sql

    from textlens.search.filters import OPS, conditions

    clauses, params = [], []

    def one(field: str, op: str, value: Any):
        if isinstance(value, bool):
            params.extend([field, json.dumps(value)])
            return sql.SQL("(metadata -> %s) {} %s::jsonb").format(sql.SQL(OPS[op]))
        kind = "number" if isinstance(value, int | float) else "string"
        cast = sql.SQL("::numeric" if kind == "number" else "")
        params.extend([field, kind, field, value])
        return sql.SQL("(jsonb_typeof(metadata -> %s) = %s AND (metadata ->> %s){} {} %s)").format(
            cast, sql.SQL(OPS[op])
        )

    for field, op, value in conditions(filters, known):
        if op == "in":
            ors = [one(field, "eq", v) for v in value]
            clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(ors)) if ors else sql.SQL("false"))
        else:
            clauses.append(one(field, op, value))
    return sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true"), params


class PgKeywordRetriever:
    """tantivy's BM25 (or chosen ``(k1, b)`` over exact lengths) computed in SQL."""

    def __init__(self, snap: PgSnapshot, params: tuple[float, float] | None, title_boost: float) -> None:
        self.snap, self.params, self.title_boost = snap, params, title_boost

    def search(self, query: str, n: int, allowed: PgAllowed | None) -> dict[int, float]:
        from psycopg import sql

        snap = self.snap
        terms = snap.analyzer.terms(query)
        weights: Counter = Counter(("b", t) for t in terms)
        if self.params is None and self.title_boost > 0:
            for t in terms:  # a term twice in the query counts twice, as tantivy's two clauses do
                weights[("t", t)] += self.title_boost
        if self.params is None:  # the re-scorer of the local engine reads the body only
            weights.update(("c", g) for g in cjk_bigrams(query))
        if not weights or n <= 0 or snap.stats["docs"] == 0:
            return {}
        k1, b = self.params or (1.2, 0.75)
        length = "t.length" if self.params else "t.norm"
        fields, words, boosts = zip(*((f, w, x) for (f, w), x in weights.items()), strict=True)
        filt = sql.SQL("")
        params: list[Any] = [list(fields), list(words), [float(x) for x in boosts]]
        if allowed is not None:
            filt = sql.SQL("AND t.key IN (SELECT key FROM {} WHERE {})").format(snap.t["docs"], allowed.where)
        query_sql = sql.SQL(
            """WITH q(field, term, boost) AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::float8[])),
            df AS (SELECT t.field, t.term, count(*) AS df FROM {terms} t JOIN q USING (field, term) GROUP BY 1, 2)
            SELECT t.key, sum(q.boost * ln(1 + (%s::float8 - df.df + 0.5) / (df.df + 0.5)) * t.tf * (%s::float8 + 1)
                / (t.tf + %s::float8 * (1 - %s::float8 + %s::float8 * {length}
                   / (CASE t.field WHEN 'b' THEN %s::float8 WHEN 't' THEN %s::float8 ELSE %s::float8 END))))
              AS score
            FROM {terms} t JOIN q USING (field, term) JOIN df USING (field, term)
            WHERE true {filt}
            GROUP BY t.key ORDER BY score DESC, t.key LIMIT %s"""
        ).format(terms=snap.t["terms"], length=sql.SQL(length), filt=filt)
        docs = snap.stats["docs"]
        avg = [max(1e-9, snap.stats[f"tokens_{f}"] / docs) for f in FIELDS]
        stats = [docs, k1, k1, b, b, *avg]
        args = [*params, *stats, *(allowed.params if allowed is not None else []), n]
        return {int(key): float(score) for key, score in snap.db.execute(query_sql, args)}


class PgBm25Retriever:
    """BM25 from pg_textsearch's index (block-max WAND top-k) over the analysed terms stored as text.

    The body's index holds textlens's analysed terms of title and text (and CJK bigrams), the title's those of
    the title, both with PostgreSQL's ``simple`` configuration, which keeps space-separated terms as they are: so
    stemming and stop words are textlens's own (CJK bigrams share the body field here). A title boost re-scores
    the body index's top hits (``n`` and a margin, :func:`title_margin`), adding each row's title score (against
    the title index's statistics) times the boost: every title term is a body term, so a document the title lifts
    into the top ``n`` is among the body's best too. One index scan a search; a document that only a large boost
    would lift from deeper than the margin is missed (the local engine scores both fields over every match).
    Under a filter, the index's top hits are filtered, ten times deeper than needed at first, then deeper until
    enough pass or none are left. pg_textsearch scores exact document lengths; tantivy rounds a length to one
    byte, so scores differ from the local engine's by up to a few percent (the local ``bm25=(k1, b)``
    re-scorer's exact lengths: equal)."""

    def __init__(self, snap: PgSnapshot, title_boost: float) -> None:
        self.snap, self.title_boost = snap, title_boost

    def search(self, query: str, n: int, allowed: PgAllowed | None) -> dict[int, float]:
        title = " ".join(self.snap.analyzer.terms(query))
        text = " ".join([title, *cjk_bigrams(query)]).strip()
        if not text or n <= 0:
            return {}
        boost = self.title_boost if title else 0.0
        want = title_margin(n, boost)  # the body's hits to re-score with the title
        depth = want if allowed is None else max(100, 10 * want)
        while True:  # under a filter: deeper until enough pass it or the index has no more
            found, passed, reached = self._top(text, title, boost, n, depth, allowed)
            if allowed is None or passed >= want or reached < depth:
                return found
            depth *= 8

    def _top(self, text: str, title: str, boost: float, n: int, depth: int, allowed: PgAllowed | None):
        """The best ``n`` of the body index's top ``depth`` that pass ``allowed``, with the title's score added;
        how many passed, and how many rows the index gave (both counted under a filter only)."""
        from psycopg import sql

        snap = self.snap
        docs, cid = snap.t["docs"], snap.col.cid
        where, params = (allowed.where, allowed.params) if allowed is not None else (sql.SQL("true"), [])
        counts = "(SELECT count(*) FROM p), (SELECT count(*) FROM b)" if allowed is not None else "0, 0"
        score, args = sql.SQL("-b.s"), [text, depth, *params]
        if boost > 0:
            score = sql.SQL("-b.s - %s * (bm25_title <@> to_bm25query(%s, {}))").format(
                sql.Literal(bm25_index(cid, "bm25_title"))
            )
            args = [text, depth, float(boost), title, *params]
        stmt = sql.SQL(
            """WITH b AS MATERIALIZED (SELECT key, bm25_get_current_score() AS s FROM {docs}
              ORDER BY bm25_body <@> to_bm25query(%s, {index}) LIMIT %s),
            p AS MATERIALIZED (SELECT key, id, {score} AS s FROM b JOIN {docs} USING (key) WHERE b.s < 0 AND {where})
            SELECT key, id, s, {counts} FROM p ORDER BY s DESC, key LIMIT %s"""
        ).format(
            docs=docs,
            index=sql.Literal(bm25_index(cid, "bm25_body")),
            score=score,
            where=where,
            counts=sql.SQL(counts),
        )
        rows = snap.db.execute(stmt, [*args, n]).fetchall()
        snap.known_ids.update((int(key), did) for key, did, *_ in rows)
        passed, reached = rows[0][3:] if rows else (0, 0)
        return {int(key): float(s) for key, _, s, *_ in rows}, passed, reached


def title_margin(n: int, boost: float) -> int:
    """How many of the body index's top hits a title boost re-scores to find the best ``n``: ``n`` without a
    boost; with the default boost (0.25) a quarter more, at least ten more, and that margin again for each
    further 0.25, since a larger boost lifts documents from deeper (``benchmarks/postgres_bm25.py`` counts the
    top 10 shared with the local engine)."""
    if boost <= 0:
        return n
    return n + max(10, n // 4) * math.ceil(boost / TITLE_BOOST - 1e-9)


class PgDenseRetriever:
    """Cosine similarity by pgvector: HNSW (``hnsw.ef_search`` at least 100 and twice ``n``), pgvectorscale's
    DiskANN, or exact."""

    def __init__(self, snap: PgSnapshot, vector: np.ndarray | None) -> None:
        self.snap, self.vector = snap, vector
        dim = snap.col.manifest["encoder"]["dim"]
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(-1)
            if vector.shape != (dim,):
                raise InputError(
                    f"the query vector has {vector.shape[0]} dimensions, the collection's vectors {dim}",
                    hint="Embed the query with the collection's encoder.",
                )
            self.vector = vector

    def search(self, query: str, n: int, allowed: PgAllowed | None) -> dict[int, float]:
        from psycopg import sql

        snap = self.snap
        qv = self.vector if self.vector is not None else snap.col.encoder.encode_queries([query])[0]
        qv = np.asarray(qv, dtype=np.float32)
        if allowed is None:
            if snap.col.manifest["vector_index"] == "diskann":  # pgvectorscale's knobs (its defaults 100 and 50)
                snap.db.execute(
                    sql.SQL("SET LOCAL diskann.query_search_list_size = {}").format(sql.Literal(max(100, 2 * n)))
                )
                snap.db.execute(sql.SQL("SET LOCAL diskann.query_rescore = {}").format(sql.Literal(max(50, n))))
            else:
                snap.db.execute(
                    sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(min(1000, max(100, 2 * n))))
                )
            stmt = sql.SQL(
                "SELECT key, 1 - (embedding <=> %s) FROM {} WHERE embedding IS NOT NULL "
                "ORDER BY embedding <=> %s LIMIT %s"
            ).format(snap.t["docs"])
            rows = snap.db.execute(stmt, [qv, qv, n])
        else:  # a materialised subset: exact, never the index (which filters after its top ef_search)
            stmt = sql.SQL(
                "WITH c AS MATERIALIZED (SELECT key, embedding FROM {} WHERE embedding IS NOT NULL AND {}) "
                "SELECT key, 1 - (embedding <=> %s) AS s FROM c ORDER BY s DESC, key LIMIT %s"
            ).format(snap.t["docs"], allowed.where)
            rows = snap.db.execute(stmt, [*allowed.params, qv, n])
        return {int(key): float(score) for key, score in rows}


class PgSnapshot:
    """:class:`~textlens.search.retriever.Snapshot` of a :class:`PgCollection`: one REPEATABLE READ,
    READ ONLY transaction."""

    def __init__(self, col: PgCollection, db, row: tuple | None) -> None:
        """``row``: the collection's :data:`STATS` read in this transaction (``None``: it was deleted)."""
        self.col, self.db, self.name, self.t = col, db, col.name, col.t
        self.analyzer = col.analysis
        self.known_ids: dict[int, str] = {}  # ids the retrievers fetched with their keys
        if row is None:
            raise CollectionNotFound(f"collection {col.name!r} was deleted", hint="Create it again.")
        self.stats = dict(zip(("docs", "tokens_b", "tokens_t", "tokens_c", "generation"), row, strict=True))
        self.generation = self.stats["generation"]

    def allowed(self, filters) -> PgAllowed | None:
        if not filters:
            return None
        return PgAllowed(*compile_pg_filters(filters, self.col._fields(self.db)))

    def retriever(self, kind: str, *, bm25=None, vector=None, title_boost=None):
        if kind == "keyword":
            from textlens.index.analysis import TANTIVY_DEFAULT, check_params

            params = TANTIVY_DEFAULT if bm25 is None else check_params(bm25)
            if params == TANTIVY_DEFAULT:
                boost = TITLE_BOOST if title_boost is None else check_title_boost(title_boost)
                if self.col.bm25:
                    return PgBm25Retriever(self, boost)
                return PgKeywordRetriever(self, None, boost)
            if self.col.bm25:
                raise InputError(
                    f"collection {self.name!r} keeps its keyword index in pg_textsearch, whose k1 and b are fixed "
                    "when the index is made (1.2, 0.75)",
                    hint="Drop --bm25, or rebuild the collection with --keyword-index sql to choose them per search.",
                    api_hint="Drop bm25, or rebuild the collection with keyword_index sql.",
                )
            if title_boost:
                raise InputError(
                    "a title boost and BM25 parameters cannot be combined: the BM25 re-scorer scores the body only",
                    hint="Drop --title-boost, or --bm25 (tantivy's 1.2, 0.75 with the title boost).",
                    api_hint="Drop title_boost, or bm25.",
                )
            return PgKeywordRetriever(self, params, 0.0)
        if kind == "dense":
            if self.col.manifest.get("encoder") is None:
                raise InputError(
                    f"collection {self.name!r} has no vectors (built without an encoder)",
                    hint="Use --mode keyword, or rebuild the collection with an encoder.",
                    api_hint="Use mode keyword, or rebuild the collection with an encoder.",
                )
            return PgDenseRetriever(self, vector)
        raise ValueError(f"unknown retriever {kind!r}")

    def ids(self, keys: Iterable[int]) -> dict[int, str]:
        from psycopg import sql

        keys = set(keys)
        found = {k: self.known_ids[k] for k in keys if k in self.known_ids}
        if len(found) < len(keys):
            stmt = sql.SQL("SELECT key, id FROM {} WHERE key = ANY(%s)").format(self.t["docs"])
            found |= {int(k): i for k, i in self.db.execute(stmt, [list(keys - found.keys())])}
        return found

    def rows(self, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self.col._rows(self.db, "key = ANY(%s)", [list(keys)])
