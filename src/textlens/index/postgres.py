"""Collections in PostgreSQL: documents and metadata in tables, vectors in pgvector, BM25 in SQL.

``Collection.create(name, backend="postgresql://...")`` (or ``TEXTLENS_BACKEND``, or the CLI's
``--backend``) returns a :class:`PgCollection`: the same methods as a local collection, and the
same search engine on top (fusion, reranking, highlighting), through a read snapshot that is one
``REPEATABLE READ`` transaction.

Layout in the database (table names come from the collection's number, never from its name)::

    textlens_collections   one row a collection: name, manifest, format version, BM25 statistics
    textlens_cN_docs       key, id, parent, title, text, metadata (jsonb), embedding (vector(dim))
    textlens_cN_terms      field, term, key, tf, length, norm: the analysed terms of each document
    textlens_cN_fields     metadata field names (for filters)

Keyword scores are tantivy's BM25 computed in SQL over the same analysed terms the local engine
indexes: ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf * (k1 + 1) / (tf + k1 * (1 - b + b *
norm / avg))`` where ``norm`` is the length as tantivy stores it (one byte, Lucene's
``SmallFloat.intToByte4`` scale) and ``avg`` the field's tokens over all documents; a title boost adds
the title field's BM25 times the boost, CJK runs count as bigrams in a field of their own. Chosen
``(k1, b)`` score the exact lengths, as the local re-scorer does. So scores and rankings equal the
local engine's on the same corpus (up to float rounding). Dense search is pgvector's cosine distance
over an HNSW index (``vector_index="exact"``: none), exact under a filter (pgvector filters after
the index, which could return fewer than asked).

Each batch of ``add``/``upsert`` is one transaction (documents, terms, statistics): a reader sees all
of it or none; a connection lost mid-batch rolls that batch back and keeps the earlier ones. One
process writes a collection at a time (a PostgreSQL advisory lock held while it is open for writing).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index.collection import (
    AddReport,
    CollectionBase,
    CollectionConflict,
    CollectionError,
    CollectionNotFound,
    _document,
    _encoder_entry,
    _load_encoder,
    check_name,
)
from textlens.index.keyword import TITLE_BOOST, Terms, check_title_boost, cjk_bigrams
from textlens.progress import Progress

FORMAT_VERSION = 1
REGISTRY = "textlens_collections"
LOCK_CLASS = 0x7E47  # first half of the advisory lock key of a collection's writer (the second: its id)
FIELDS = ("b", "t", "c")  # body (title + text), title, CJK bigrams
_REGISTRY_COLUMNS = {
    "id",
    "name",
    "format_version",
    "manifest",
    "docs",
    "tokens_b",
    "tokens_t",
    "tokens_c",
    "next_key",
    "generation",
}


class BackendError(CollectionError):
    """The PostgreSQL server cannot be reached, lacks pgvector, or holds tables textlens cannot read."""


def is_postgres(backend: str | None) -> bool:
    return bool(backend) and backend.split("://", 1)[0] in ("postgresql", "postgres")


def redact(url: str) -> str:
    """``url`` without its password (for messages)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return url.split("://", 1)[0] + "://..."
    where = parts.get("host", "localhost") + (f":{parts['port']}" if parts.get("port") else "")
    return f"postgresql://{parts.get('user', '')}@{where}/{parts.get('dbname', '')}"


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


def connect(url: str):
    """A connection (autocommit) with pgvector's types registered; clear errors when the server
    cannot be reached or has no pgvector."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise BackendError(
            f"cannot connect to PostgreSQL at {redact(url)}: {_last_line(exc)}",
            hint="Start the server, or check the host, port, user, password and database in the URL "
            "(postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or ?host=/socket/dir for a local socket).",
        ) from exc
    try:
        _ensure_vector(conn, url)
        from pgvector.psycopg import register_vector

        register_vector(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_vector(conn, url: str) -> None:
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
        raise BackendError(
            f"the PostgreSQL server at {redact(url)} has no pgvector extension",
            hint="Install pgvector on the server (its package, e.g. postgresql-16-pgvector, or from source: "
            "github.com/pgvector/pgvector), then run CREATE EXTENSION vector; in the database.",
        )
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BackendError(
            f"pgvector is installed on {redact(url)} but not enabled in this database, and this user may not enable it",
            hint="Run CREATE EXTENSION vector; in the database as its owner or a superuser.",
        ) from exc


def _tables(cid: int) -> dict[str, Any]:
    from psycopg import sql

    return {name: sql.Identifier(f"textlens_c{cid}_{name}") for name in ("docs", "terms", "fields")}


def _ensure_registry(conn, url: str) -> None:
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {REGISTRY} (
            id serial PRIMARY KEY, name text UNIQUE NOT NULL, format_version int NOT NULL,
            manifest jsonb NOT NULL, docs bigint NOT NULL DEFAULT 0, tokens_b bigint NOT NULL DEFAULT 0,
            tokens_t bigint NOT NULL DEFAULT 0, tokens_c bigint NOT NULL DEFAULT 0,
            next_key bigint NOT NULL DEFAULT 1, generation bigint NOT NULL DEFAULT 0)"""
    )
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = "
            "current_schema()",
            (REGISTRY,),
        )
    }
    if columns != _REGISTRY_COLUMNS:
        raise BackendError(
            f"table {REGISTRY} in {redact(url)} was not made by this textlens (its columns: "
            f"{', '.join(sorted(columns))})",
            hint="Use another database or schema, or rename that table if it is not textlens's.",
        )


class PgAllowed:
    """What passes a filter: a SQL condition on the documents table and its parameters."""

    def __init__(self, where, params: list[Any]) -> None:
        self.where, self.params = where, params


def compile_pg_filters(filters, known: set[str]):
    """Filters (see :mod:`textlens.index.filters`) as a SQL condition over ``metadata`` (jsonb), with
    values passed as parameters only. Text compares as text, numbers as numbers, booleans as booleans."""
    from psycopg import sql

    from textlens.index.filters import OPS, conditions

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


class PgDenseRetriever:
    """Cosine similarity by pgvector: HNSW (``hnsw.ef_search`` at least ``n``) or exact."""

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
            snap.db.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(min(1000, max(40, n)))))
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

    def __init__(self, col: PgCollection, db) -> None:
        self.col, self.db, self.name, self.t = col, db, col.name, col.t
        self.analyzer = col.analysis
        row = db.execute(
            f"SELECT docs, tokens_b, tokens_t, tokens_c, generation FROM {REGISTRY} WHERE id = %s", (col.cid,)
        ).fetchone()
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
            from textlens.index.bm25 import TANTIVY_DEFAULT, check_params

            params = TANTIVY_DEFAULT if bm25 is None else check_params(bm25)
            if params == TANTIVY_DEFAULT:
                boost = TITLE_BOOST if title_boost is None else check_title_boost(title_boost)
                return PgKeywordRetriever(self, None, boost)
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

        stmt = sql.SQL("SELECT key, id FROM {} WHERE key = ANY(%s)").format(self.t["docs"])
        return {int(k): i for k, i in self.db.execute(stmt, [list(keys)])}

    def rows(self, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self.col._rows(self.db, "key = ANY(%s)", [list(keys)])


class PgCollection(CollectionBase):
    """A collection in PostgreSQL (see the module's docstring). Open with ``Collection.create`` /
    ``Collection.open`` and ``backend="postgresql://..."``."""

    def __init__(self, url: str, conn, cid: int, name: str, manifest: dict[str, Any]) -> None:
        super().__init__()
        self.url, self.cid, self.name, self.manifest = url, cid, name, manifest
        self.path = f"{redact(url)}#{name}"
        self.t = _tables(cid)
        self.analysis = Terms(manifest["language"])
        self._conns = threading.local()
        self._conns.db = conn
        self._all: list = [conn]
        self._writer_conn = None

    # -- connections ---------------------------------------------------------
    @property
    def db(self):
        """This thread's connection (psycopg connections serve one thread at a time)."""
        conn = getattr(self._conns, "db", None)
        if conn is None or conn.closed:
            conn = self._conns.db = connect(self.url)
            self._all.append(conn)
        return conn

    def close(self) -> None:
        if self._writer_conn is not None:  # at once: a closed connection's locks go when its backend exits
            with contextlib.suppress(Exception):
                self._writer_conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.cid))
        for conn in self._all:
            with contextlib.suppress(Exception):
                conn.close()
        self._all = []
        self._writer_conn = None

    # -- lifecycle -----------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        url: str,
        *,
        encoder=None,
        language: str = "english",
        vector_index: str = "auto",
        embed_title: bool = True,
        exist_ok: bool = False,
    ) -> PgCollection:
        from textlens.index.keyword import analyzer

        check_name(name)
        analyzer(language)
        if vector_index not in ("auto", "hnsw", "exact"):
            raise InputError(
                f"vector index {vector_index!r} is not one PostgreSQL offers",
                hint="Use hnsw (pgvector's HNSW, the default) or exact.",
            )
        conn = connect(url)
        try:
            _ensure_registry(conn, url)
            if conn.execute(f"SELECT 1 FROM {REGISTRY} WHERE name = %s", (name,)).fetchone():
                conn.close()
                if exist_ok:
                    return cls.open(name, url, encoder=encoder)
                raise CollectionConflict(
                    f"collection {name!r} already exists in {redact(url)}",
                    hint="Open it, add to it, or delete it with `textlens collections delete`.",
                    api_hint="Open it, add to it, or delete it first.",
                )
            enc = _load_encoder(encoder) if encoder is not None else None
            manifest = {
                "format_version": FORMAT_VERSION,
                "name": name,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "language": language,
                "vector_index": "hnsw" if vector_index == "auto" else vector_index,
                "embed_title": embed_title,
                "encoder": _encoder_entry(enc) if enc else None,
            }
            with conn.transaction():
                cid = conn.execute(
                    f"INSERT INTO {REGISTRY} (name, format_version, manifest) VALUES (%s, %s, %s) RETURNING id",
                    (name, FORMAT_VERSION, json.dumps(manifest)),
                ).fetchone()[0]
                _create_tables(conn, cid, manifest)
        except BaseException:
            conn.close()
            raise
        col = cls(url, conn, cid, name, manifest)
        col._encoder = enc
        return col

    @classmethod
    def open(cls, name: str, url: str, *, encoder=None) -> PgCollection:
        check_name(name)
        conn = connect(url)
        try:
            _ensure_registry(conn, url)
            row = conn.execute(
                f"SELECT id, format_version, manifest FROM {REGISTRY} WHERE name = %s", (name,)
            ).fetchone()
        except BaseException:
            conn.close()
            raise
        if row is None:
            conn.close()
            raise CollectionNotFound(
                f"no collection {name!r} in {redact(url)}",
                hint="List collections with `textlens collections list --backend URL`; create one with "
                "`textlens index PATH --collection NAME --backend URL`.",
                api_hint="List the collections (GET /api/collections); adding documents creates one.",
            )
        cid, version, manifest = row
        if version > FORMAT_VERSION:
            conn.close()
            raise BackendError(
                f"collection {name!r} in {redact(url)} has format version {version}; this textlens reads up to "
                f"{FORMAT_VERSION}",
                hint="Upgrade textlens to open it.",
            )
        col = cls(url, conn, cid, name, manifest)
        if encoder is not None:
            col._check_encoder(encoder)
        return col

    def delete_collection(self) -> None:
        """Drop the collection's tables and its registry row, in one transaction."""
        from psycopg import sql

        with self.db.transaction():
            for table in self.t.values():
                self.db.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(table))
            self.db.execute(f"DELETE FROM {REGISTRY} WHERE id = %s", (self.cid,))
        self.close()

    # -- writing -------------------------------------------------------------
    def _writer(self):
        """The connection that writes, holding the collection's advisory lock (taken once)."""
        if self._writer_conn is None:
            conn = self.db
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.cid)).fetchone()[0]
            if not got:
                raise CollectionConflict(
                    f"another process is writing to collection {self.name!r}",
                    hint="Wait for it to finish; searches can run meanwhile.",
                )
            self._writer_conn = conn
        return self._writer_conn

    def add(
        self,
        docs: Iterable[Document],
        *,
        batch_size: int = 1024,
        progress: Progress | None = None,
        upsert: bool = False,
    ) -> AddReport:
        """Add documents (an id already present is an error unless ``upsert``); one transaction a batch."""
        import psycopg

        from textlens.corpus.readers import batched

        report = AddReport()
        start = time.perf_counter()
        with self._write_lock:
            conn = self._writer()
            done = 0
            for batch in batched(docs, batch_size):
                try:
                    self._write_batch(conn, batch, upsert, report, progress, done)
                except psycopg.OperationalError as exc:
                    self._writer_conn = None
                    raise BackendError(
                        f"the connection to PostgreSQL at {redact(self.url)} was lost while writing documents "
                        f"{done + 1}-{done + len(batch)} of collection {self.name!r}: that batch was rolled back; "
                        f"the {done:,} before it are committed ({_last_line(exc)})",
                        hint="Check the server, then run the same command again with --upsert (upsert=True): "
                        "committed documents are replaced by themselves, the rest are added.",
                    ) from exc
                done += len(batch)
                if progress:
                    progress("indexed", done, 0)
        report.seconds = time.perf_counter() - start
        return report

    def _write_batch(self, conn, batch, upsert, report, progress, done) -> None:
        from psycopg import sql

        keep = self._checked(batch, report)
        if not keep:
            return
        ids = [d.id for d in keep]
        old = dict(conn.execute(sql.SQL("SELECT id, key FROM {} WHERE id = ANY(%s)").format(self.t["docs"]), [ids]))
        if old and not upsert:
            raise InputError(
                f"{len(old)} id(s) already in collection {self.name!r}: {', '.join(list(old)[:5])}",
                hint="Use upsert (textlens index --upsert) to replace them.",
                api_hint="Use upsert to replace them.",
            )
        vecs = None
        if self.manifest.get("encoder"):
            vecs = self._embed(keep, report, progress, done)
        analysed = [self._analyse(d) for d in keep]
        self._commit(conn, keep, analysed, vecs, list(old.values()), report)
        report.added += len(keep) - len(old)
        report.replaced += len(old)

    def _checked(self, batch: list[Document], report: AddReport) -> list[Document]:
        """As locally, and no NUL characters (PostgreSQL's text and jsonb cannot hold them)."""
        for doc in batch:
            for what, value in (("id", doc.id), ("title", doc.title), ("text", doc.text), ("parent", doc.parent)):
                if value and "\x00" in value:
                    raise InputError(
                        f"document {doc.id!r}: its {what} holds a NUL character, which PostgreSQL text cannot store",
                        hint="Remove the NUL characters (\\x00) from the input.",
                    )
            if "\\u0000" in json.dumps(doc.metadata):
                raise InputError(
                    f"document {doc.id!r}: its metadata holds a NUL character, which PostgreSQL jsonb cannot store",
                    hint="Remove the NUL characters (\\x00) from the metadata.",
                )
        return super()._checked(batch, report)

    def _analyse(self, doc: Document) -> dict[str, list[str]]:
        body = doc.titled_text
        return {
            "b": self.analysis.terms(body),
            "t": self.analysis.terms(doc.title) if doc.title else [],
            "c": cjk_bigrams(body),
        }

    def _commit(self, conn, docs, analysed, vecs, replace: list[int], report: AddReport) -> None:
        """Insert ``docs`` with their terms, retire ``replace`` and move the statistics, in one transaction."""
        from psycopg import sql

        t = self.t
        with conn.transaction():
            first = conn.execute(f"SELECT next_key FROM {REGISTRY} WHERE id = %s FOR UPDATE", (self.cid,)).fetchone()[0]
            gone = {"docs": 0, "b": 0, "t": 0, "c": 0}
            if replace:
                gone["docs"] = len(replace)
                for field, tokens in conn.execute(
                    sql.SQL(
                        "SELECT field, sum(length) FROM (SELECT DISTINCT ON (key, field) key, field, length FROM {} "
                        "WHERE key = ANY(%s)) s GROUP BY field"
                    ).format(t["terms"]),
                    [replace],
                ):
                    gone[field] = int(tokens)
                conn.execute(sql.SQL("DELETE FROM {} WHERE key = ANY(%s)").format(t["docs"]), [replace])
            keys = list(range(first, first + len(docs)))
            columns = "key, id, parent, title, text, metadata" + (", embedding" if vecs is not None else "")
            with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(t["docs"], sql.SQL(columns))) as copy:
                for i, (key, d) in enumerate(zip(keys, docs, strict=True)):
                    row = [key, d.id, d.parent, d.title, d.text, json.dumps(d.metadata, ensure_ascii=False)]
                    copy.write_row([*row, vecs[i]] if vecs is not None else row)
            added = {"b": 0, "t": 0, "c": 0}
            with conn.cursor().copy(
                sql.SQL("COPY {} (field, term, key, tf, length, norm) FROM STDIN").format(t["terms"])
            ) as copy:
                for key, terms in zip(keys, analysed, strict=True):
                    for field, words in terms.items():
                        n = len(words)
                        added[field] += n
                        norm = fieldnorm(n)
                        for word, tf in Counter(words).items():
                            copy.write_row((field, word, key, tf, n, norm))
            names = sorted({f for d in docs for f in d.metadata})
            if names:
                conn.execute(
                    sql.SQL("INSERT INTO {} SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING").format(t["fields"]),
                    [names],
                )
            conn.execute(
                f"""UPDATE {REGISTRY} SET docs = docs + %s, tokens_b = tokens_b + %s, tokens_t = tokens_t + %s,
                tokens_c = tokens_c + %s, next_key = %s, generation = generation + 1 WHERE id = %s""",
                (
                    len(docs) - gone["docs"],
                    added["b"] - gone["b"],
                    added["t"] - gone["t"],
                    added["c"] - gone["c"],
                    first + len(docs),
                    self.cid,
                ),
            )

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; a whole-document id also deletes its chunks. Returns the count."""
        from psycopg import sql

        with self._write_lock:
            conn = self._writer()
            with conn.transaction():
                keys = [
                    r[0]
                    for r in conn.execute(
                        sql.SQL("SELECT key FROM {} WHERE id = ANY(%s) OR parent = ANY(%s)").format(self.t["docs"]),
                        [list(ids), list(ids)],
                    )
                ]
                if not keys:
                    return 0
                tokens = dict(
                    conn.execute(
                        sql.SQL(
                            "SELECT field, sum(length) FROM (SELECT DISTINCT ON (key, field) key, field, length "
                            "FROM {} WHERE key = ANY(%s)) s GROUP BY field"
                        ).format(self.t["terms"]),
                        [keys],
                    )
                )
                conn.execute(sql.SQL("DELETE FROM {} WHERE key = ANY(%s)").format(self.t["docs"]), [keys])
                conn.execute(
                    f"""UPDATE {REGISTRY} SET docs = docs - %s, tokens_b = tokens_b - %s, tokens_t = tokens_t - %s,
                    tokens_c = tokens_c - %s, generation = generation + 1 WHERE id = %s""",
                    (len(keys), *(int(tokens.get(f, 0)) for f in FIELDS), self.cid),
                )
            return len(keys)

    # -- reading -------------------------------------------------------------
    def _rows(self, db, where: str, params: list[Any]) -> dict[int, dict[str, Any]]:
        from psycopg import sql

        stmt = sql.SQL("SELECT key, id, parent, title, text, metadata FROM {} WHERE " + where).format(self.t["docs"])
        return {
            int(key): {"id": did, "parent": parent, "title": title, "text": text, "metadata": meta}
            for key, did, parent, title, text, meta in db.execute(stmt, params)
        }

    def _fields(self, db) -> set[str]:
        from psycopg import sql

        return {r[0] for r in db.execute(sql.SQL("SELECT name FROM {}").format(self.t["fields"]))}

    def __len__(self) -> int:
        return int(self.db.execute(f"SELECT docs FROM {REGISTRY} WHERE id = %s", (self.cid,)).fetchone()[0])

    def get(self, doc_id: str) -> Document | None:
        rows = self._rows(self.db, "id = %s", [doc_id])
        return _document(next(iter(rows.values()))) if rows else None

    def documents(self) -> list[Document]:
        rows = self._rows(self.db, "true ORDER BY key", [])
        return [_document(r) for r in rows.values()]

    def info(self) -> dict[str, Any]:
        size = sum(
            self.db.execute("SELECT pg_total_relation_size(%s::regclass)", (table.as_string(self.db),)).fetchone()[0]
            for table in self.t.values()
        )
        return {
            "name": self.name,
            "path": self.path,
            "backend": redact(self.url),
            "documents": len(self),
            "format_version": self.manifest["format_version"],
            "encoder": self.manifest.get("encoder"),
            "language": self.manifest["language"],
            "vector_index": self.manifest["vector_index"],
            "fields": sorted(self._fields(self.db)),
            "keyword_titles": True,
            "bytes_on_disk": int(size),
            "created": self.manifest["created"],
        } | (
            {"vectors": {"kind": self.manifest["vector_index"], "dim": self.manifest["encoder"]["dim"]}}
            if self.manifest.get("encoder")
            else {}
        )

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PgSnapshot]:
        """One REPEATABLE READ, READ ONLY transaction: every retriever and row fetched inside sees one
        committed state."""
        import psycopg

        db = self.db
        try:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PgSnapshot(self, db)
        except psycopg.OperationalError as exc:  # the server went away; the next call connects again
            raise _lost(self.url, exc) from exc
        finally:
            with contextlib.suppress(psycopg.Error):
                db.execute("COMMIT")  # after an error inside: PostgreSQL rolls back instead

    def document_ids(self) -> set[str]:
        from psycopg import sql

        return {r[0] for r in self.db.execute(sql.SQL("SELECT coalesce(parent, id) FROM {}").format(self.t["docs"]))}

    def stored_ids(self) -> set[str]:
        from psycopg import sql

        return {r[0] for r in self.db.execute(sql.SQL("SELECT id FROM {}").format(self.t["docs"]))}

    def is_chunked(self) -> bool:
        from psycopg import sql

        stmt = sql.SQL("SELECT 1 FROM {} WHERE parent IS NOT NULL LIMIT 1").format(self.t["docs"])
        return self.db.execute(stmt).fetchone() is not None


def _last_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _lost(url: str, exc: Exception) -> BackendError:
    return BackendError(
        f"the connection to PostgreSQL at {redact(url)} was lost: {_last_line(exc)}",
        hint="Check that the server is running and reachable, then retry.",
    )


def _create_tables(conn, cid: int, manifest: dict[str, Any]) -> None:
    from psycopg import sql

    t = _tables(cid)
    enc = manifest.get("encoder")
    vector = sql.SQL(", embedding vector({})").format(sql.Literal(enc["dim"])) if enc else sql.SQL("")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (key bigint PRIMARY KEY, id text UNIQUE NOT NULL, parent text, title text NOT NULL, "
            "text text NOT NULL, metadata jsonb NOT NULL{})"
        ).format(t["docs"], vector)
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} (parent)").format(t["docs"]))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (field text NOT NULL, term text NOT NULL, key bigint NOT NULL REFERENCES {} (key) "
            "ON DELETE CASCADE, tf int NOT NULL, length int NOT NULL, norm int NOT NULL, "
            "PRIMARY KEY (field, term, key))"
        ).format(t["terms"], t["docs"])
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} (key)").format(t["terms"]))
    conn.execute(sql.SQL("CREATE TABLE {} (name text PRIMARY KEY)").format(t["fields"]))
    if enc and manifest["vector_index"] == "hnsw":
        conn.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops)").format(t["docs"]))


def list_pg_collections(url: str) -> list[dict[str, Any]]:
    """Every collection in the database at ``url``."""
    conn = connect(url)
    try:
        _ensure_registry(conn, url)
        rows = conn.execute(f"SELECT name, docs, manifest FROM {REGISTRY} ORDER BY name").fetchall()
    finally:
        conn.close()
    return [
        {
            "name": name,
            "documents": int(docs),
            "encoder": (mf.get("encoder") or {}).get("name"),
            "path": f"{redact(url)}#{name}",
        }
        for name, docs, mf in rows
    ]


def exists(name: str, url: str) -> bool:
    conn = connect(url)
    try:
        _ensure_registry(conn, url)
        return conn.execute(f"SELECT 1 FROM {REGISTRY} WHERE name = %s", (check_name(name),)).fetchone() is not None
    finally:
        conn.close()
