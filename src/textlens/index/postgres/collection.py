"""Collections in PostgreSQL: documents and metadata in tables, vectors in pgvector (HNSW) or pgvectorscale
(DiskANN), BM25 in pg_textsearch's index or computed in SQL.

``create_collection(name, backend="postgresql://...")`` (or ``TEXTLENS_BACKEND``, or the CLI's
``--backend``) returns a :class:`PgCollection`: the same methods as a local collection, and the
same search engine on top (fusion, reranking, highlighting), through a read snapshot that is one
``REPEATABLE READ`` transaction. A multi-host URL names read replicas after the primary
(:mod:`textlens.index.postgres.replicas`).

Layout in the database (table names come from the collection's number, never from its name)::

    textlens_collections   one row a collection: name, manifest, format version, BM25 statistics
    textlens_cN_docs       key, id, parent, title, text, metadata (jsonb), embedding (vector(dim));
                           with pg_textsearch: bm25_body, bm25_title (analysed terms) and their BM25 indexes
    textlens_cN_terms      field, term, key, tf, length, norm: the analysed terms of each document (SQL path)
    textlens_cN_fields     metadata field names (for filters)

``keyword_index`` (chosen at creation, in the manifest with the extension's version): ``pg_textsearch``
scores with its index over textlens's analysed terms (see :class:`~.snapshot.PgBm25Retriever`); ``sql``
computes tantivy's BM25 in SQL over the same analysed terms the local engine indexes: ``idf = ln(1 + (N
- df + 0.5) / (df + 0.5))``, ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * norm / avg))`` where ``norm`` is
the length as tantivy stores it (one byte, Lucene's ``SmallFloat.intToByte4`` scale) and ``avg`` the
field's tokens over all documents; a title boost adds the title field's BM25 times the boost, CJK runs
count as bigrams in a field of their own. Chosen ``(k1, b)`` score the exact lengths, as the local
re-scorer does. So its scores and rankings equal the local engine's on the same corpus (up to float
rounding). Dense search is pgvector's cosine distance over an HNSW or DiskANN index
(``vector_index="exact"``: none), exact under a filter (the index filters after its candidates, which
could return fewer than asked).

Each batch of ``add``/``upsert`` is one transaction (documents, terms, statistics): a reader sees all
of it or none; a connection lost mid-batch rolls that batch back and keeps the earlier ones. One
process writes a collection at a time (a PostgreSQL advisory lock held while it is open for writing).

This file is over 450 lines for a stated reason: each writing method holds the SQL of its one transaction beside
the invariant that transaction keeps (statistics, terms and documents change together). The SQL that searches
lives in ``snapshot.py``, the registry and the tables' making in ``connection.py``, the replicas in
``replicas.py``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from textlens.corpus.document import Document
from textlens.errors import InputError
from textlens.index.analysis import Terms, cjk_bigrams
from textlens.index.base import (
    BATCH_SIZE,
    AddReport,
    CollectionBase,
    CollectionConflict,
    CollectionNotFound,
    check_name,
    document_from_row,
    encoder_entry,
    ids_taken,
    load_encoder,
)
from textlens.index.postgres.connection import (
    BM25_HINT,
    KEYWORD_INDEXES,
    LOCK_CLASS,
    REGISTRY,
    VECTOR_INDEXES,
    BackendError,
    bm25_index,
    bm25_missing,
    connect,
    create_tables,
    enable,
    ensure_registry,
    last_line,
    lost_connection,
    redact,
    tables_of,
    vector_index,
    version_tuple,
)
from textlens.index.postgres.replicas import ReplicaLost, Replicas, split_hosts
from textlens.index.postgres.snapshot import FIELDS, STATS, PgSnapshot, fieldnorm
from textlens.progress import Progress
from textlens.search.engine import search
from textlens.search.options import SearchOptions

FORMAT_VERSION = 1

log = logging.getLogger("textlens.postgres")


VECTOR_INDEX_EXISTS = """SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = %s AND a.amname IN ('hnsw', 'diskann')"""


class PgCollection(CollectionBase):
    """A collection in PostgreSQL (see the module's docstring). Open with ``Collection.create`` /
    ``Collection.open`` and ``backend="postgresql://..."``."""

    def __init__(self, url: str, conn, cid: int, name: str, manifest: dict[str, Any], replicas: Replicas) -> None:
        super().__init__()
        self.url, self.cid, self.name, self.manifest, self.replicas = url, cid, name, manifest, replicas
        self.path = f"{redact(url)}#{name}"
        self.t = tables_of(cid)
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
        self.replicas.close()
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
        keyword_index: str = "auto",
        embed_title: bool = True,
        exist_ok: bool = False,
    ) -> PgCollection:
        from textlens.index.analysis import analyzer

        check_name(name)
        analyzer(language)
        if vector_index not in VECTOR_INDEXES:
            raise InputError(
                f"vector index {vector_index!r} is not one PostgreSQL offers",
                hint="Use hnsw (pgvector's HNSW, the default), diskann (pgvectorscale's StreamingDiskANN) or exact.",
            )
        if keyword_index not in KEYWORD_INDEXES:
            raise InputError(
                f"keyword index {keyword_index!r} is not one PostgreSQL offers",
                hint="Use pg_textsearch (BM25 with block-max WAND; auto when the server has it) or sql.",
            )
        given, (url, replicas) = url, split_hosts(url)
        conn, standbys = connect(url), Replicas([])
        try:
            standbys = _replicas(conn, url, replicas)
            ensure_registry(conn, url)
            if conn.execute(f"SELECT 1 FROM {REGISTRY} WHERE name = %s", (name,)).fetchone():
                _abandon(conn, standbys)
                if exist_ok:
                    return cls.open(name, given, encoder=encoder)
                raise CollectionConflict(
                    f"collection {name!r} already exists in {redact(url)}",
                    hint="Open it, add to it, or delete it with `textlens collections delete`.",
                    api_hint="Open it, add to it, or delete it first.",
                )
            enc = load_encoder(encoder) if encoder is not None else None
            manifest = {
                "format_version": FORMAT_VERSION,
                "name": name,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "language": language,
                "vector_index": "hnsw" if vector_index == "auto" else vector_index,
                "embed_title": embed_title,
                "encoder": encoder_entry(enc) if enc else None,
            } | _indexes(conn, url, keyword_index, vector_index if enc else "exact")
            with conn.transaction():
                cid = conn.execute(
                    f"INSERT INTO {REGISTRY} (name, format_version, manifest) VALUES (%s, %s, %s) RETURNING id",
                    (name, FORMAT_VERSION, json.dumps(manifest)),
                ).fetchone()[0]
                create_tables(conn, cid, manifest)
        except BaseException:
            _abandon(conn, standbys)
            raise
        col = cls(url, conn, cid, name, manifest, standbys)
        col._encoder = enc
        return col

    @classmethod
    def open(cls, name: str, url: str, *, encoder=None) -> PgCollection:
        check_name(name)
        url, replicas = split_hosts(url)
        conn, standbys = connect(url), Replicas([])
        try:
            standbys = _replicas(conn, url, replicas)
            ensure_registry(conn, url)
            row = conn.execute(
                f"SELECT id, format_version, manifest FROM {REGISTRY} WHERE name = %s", (name,)
            ).fetchone()
        except BaseException:
            _abandon(conn, standbys)
            raise
        if row is None:
            _abandon(conn, standbys)
            raise CollectionNotFound(
                f"no collection {name!r} in {redact(url)}",
                hint="List collections with `textlens collections list --backend URL`; create one with "
                "`textlens index PATH --collection NAME --backend URL`.",
                api_hint="List the collections (GET /api/collections); adding documents creates one.",
            )
        cid, version, manifest = row
        if version > FORMAT_VERSION:
            _abandon(conn, standbys)
            raise BackendError(
                f"collection {name!r} in {redact(url)} has format version {version}; this textlens reads up to "
                f"{FORMAT_VERSION}",
                hint="Upgrade textlens to open it.",
            )
        try:
            _check_extensions(conn, url, name, manifest)
            col = cls(url, conn, cid, name, manifest, standbys)
            col._mend_vector_index(conn)
        except BaseException:
            _abandon(conn, standbys)
            raise
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
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        upsert: bool = False,
    ) -> AddReport:
        """Add documents (an id already present is an error unless ``upsert``); one transaction a batch."""

        from textlens.corpus.readers import batched

        report = AddReport()
        start = time.perf_counter()
        with self._write_lock:
            conn = self._writer()
            rebuild = self._drop_vector_index(conn)
            threshold = self._hold_bm25_memtable(conn)
            written = 0
            try:
                written = self._add_batches(conn, batched(docs, batch_size), upsert, report, progress)
            finally:
                if threshold is not None:
                    self._spill_bm25_memtable(conn, threshold, written)
                if rebuild:
                    self._make_vector_index(conn)
        report.seconds = time.perf_counter() - start
        return report

    def _add_batches(self, conn, batches, upsert: bool, report: AddReport, progress: Progress | None) -> int:
        """Write the batches; the number of body terms written (what pg_textsearch's memtable holds)."""
        import psycopg

        done = terms = 0
        for batch in batches:
            try:
                terms += self._write_batch(conn, batch, upsert, report, progress, done)
            except psycopg.OperationalError as exc:
                self._writer_conn = None
                raise BackendError(
                    f"the connection to PostgreSQL at {redact(self.url)} was lost while writing documents "
                    f"{done + 1}-{done + len(batch)} of collection {self.name!r}: that batch was rolled back; "
                    f"the {done:,} before it are committed ({last_line(exc)})",
                    hint="Check the server, then run the same command again with --upsert (upsert=True): "
                    "committed documents are replaced by themselves, the rest are added.",
                ) from exc
            done += len(batch)
            if progress:
                progress("indexed", done, 0)
        return terms

    def _hold_bm25_memtable(self, conn) -> int | None:
        """pg_textsearch writes its memtable out as a new index segment after every transaction that added more
        than ``pg_textsearch.bulk_load_threshold`` terms: a large add made a segment a batch (on 345,653 Wikipedia
        paragraphs in batches of 5,000: 6 segments and a 198 MB index after its merges), and a search reads them
        all. For the add, the memtable holds every batch (up to ``pg_textsearch.memtable_spill_threshold``
        postings, where it spills by itself) and is written out once at the end (:meth:`_spill_bm25_memtable`):
        one segment, 100 MB, and top-10 searches about 14% faster. The server's threshold, or ``None`` (not
        pg_textsearch, or a version without the setting: its own behaviour then)."""
        import psycopg

        if not self.bm25:
            return None
        try:
            threshold = int(conn.execute("SHOW pg_textsearch.bulk_load_threshold").fetchone()[0])
        except psycopg.errors.UndefinedObject:
            return None
        conn.execute("SET pg_textsearch.bulk_load_threshold = 2147483647")
        return threshold

    def _spill_bm25_memtable(self, conn, threshold: int, written: int) -> None:
        """After an add of more than the server's threshold of terms (else the memtable keeps them, as
        pg_textsearch does for small transactions): both indexes' memtables into one segment each. A failure is
        logged; the rows stay searchable in the memtable."""
        import psycopg
        from psycopg import sql

        try:
            conn.execute(sql.SQL("SET pg_textsearch.bulk_load_threshold = {}").format(sql.Literal(threshold)))
            if written > threshold:
                for column in ("bm25_body", "bm25_title"):
                    conn.execute("SELECT bm25_spill_index(%s)", (bm25_index(self.cid, column),))
        except psycopg.Error as exc:
            log.warning("pg_textsearch's memtable of collection %r was not written out: %s", self.name, last_line(exc))

    def _drop_vector_index(self, conn) -> bool:
        """Into an empty collection, vectors load without their index, which is built once at the end (an HNSW
        or DiskANN build from all rows is many times faster than growing it row by row); meanwhile searches are
        exact. ``True`` when dropped."""
        if vector_index(self.cid, self.manifest) is None or len(self) > 0:
            return False
        name = f"textlens_c{self.cid}_vectors"
        if conn.execute("SELECT to_regclass(%s)", (f'"{name}"',)).fetchone()[0] is None:
            return False  # a collection made before the index had this name
        conn.execute(f'DROP INDEX "{name}"')
        return True

    # the catalogs themselves, read in the transaction's snapshot: pg_indexes's indexdef (pg_get_indexdef) reads
    # the live catalog cache and fails ("cache lookup failed") on an index another session drops meanwhile
    def _mend_vector_index(self, conn) -> None:
        """Build the vector index a bulk load left unbuilt (it stopped first), unless a writer loads now."""
        if (
            vector_index(self.cid, self.manifest) is None
            or conn.execute(VECTOR_INDEX_EXISTS, (f"textlens_c{self.cid}_docs",)).fetchone()
        ):
            return
        if conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.cid)).fetchone()[0]:
            self._make_vector_index(conn)
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.cid))

    def _make_vector_index(self, conn) -> None:
        """(Re)build the vector index; a failure is logged (searches stay exact) and retried at the next open."""
        import psycopg

        try:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute(vector_index(self.cid, self.manifest))
            conn.execute("RESET maintenance_work_mem")
        except psycopg.Error as exc:
            log.warning("the vector index of collection %r was not built: %s", self.name, last_line(exc))

    def _write_batch(self, conn, batch, upsert, report, progress, done) -> int:
        """Write one batch in one transaction; the number of body terms written."""
        from psycopg import sql

        keep = self._checked(batch, report, upsert)
        if not keep:
            return 0
        ids = [d.id for d in keep]
        old = dict(conn.execute(sql.SQL("SELECT id, key FROM {} WHERE id = ANY(%s)").format(self.t["docs"]), [ids]))
        if old and not upsert:
            raise ids_taken(self.name, old, len(old))
        vecs = None
        if self.manifest.get("encoder"):
            vecs = self._embed(keep, report, progress, done)
        analysed = [self._analyse(d) for d in keep]
        self._commit(conn, keep, analysed, vecs, list(old.values()), report)
        if self.replicas:
            self.replicas.wrote(conn)
        report.added += len(keep) - len(old)
        report.replaced += len(old)
        return sum(len(a["b"]) + len(a["c"]) for a in analysed)

    def _checked(self, batch: list[Document], report: AddReport, upsert: bool) -> list[Document]:
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
        return super()._checked(batch, report, upsert)

    def _analyse(self, doc: Document) -> dict[str, list[str]]:
        body = doc.titled_text
        return {
            "b": self.analysis.terms(body),
            "t": self.analysis.terms(doc.title) if doc.title else [],
            "c": cjk_bigrams(body),
        }

    @property
    def bm25(self) -> bool:
        """Whether keyword search runs on pg_textsearch's index (else BM25 computed in SQL over the terms)."""
        return self.manifest.get("keyword_index") == "pg_textsearch"

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
            columns += ", bm25_body, bm25_title" if self.bm25 else ""
            with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(t["docs"], sql.SQL(columns))) as copy:
                for i, (key, d) in enumerate(zip(keys, docs, strict=True)):
                    row = [key, d.id, d.parent, d.title, d.text, json.dumps(d.metadata, ensure_ascii=False)]
                    row += [vecs[i]] if vecs is not None else []
                    if self.bm25:  # CJK bigrams join the body's terms (one field, where the SQL path has two)
                        terms = analysed[i]
                        row += [" ".join(terms["b"] + terms["c"]), " ".join(terms["t"])]
                    copy.write_row(row)
            added = {"b": 0, "t": 0, "c": 0} if self.bm25 else self._copy_terms(conn, keys, analysed)
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

    def _copy_terms(self, conn, keys: list[int], analysed: list[dict[str, list[str]]]) -> dict[str, int]:
        """The SQL path's term rows of new documents; returns the tokens added per field."""
        from psycopg import sql

        added = {"b": 0, "t": 0, "c": 0}
        with conn.cursor().copy(
            sql.SQL("COPY {} (field, term, key, tf, length, norm) FROM STDIN").format(self.t["terms"])
        ) as copy:
            for key, terms in zip(keys, analysed, strict=True):
                for field, words in terms.items():
                    n = len(words)
                    added[field] += n
                    norm = fieldnorm(n)
                    for word, tf in Counter(words).items():
                        copy.write_row((field, word, key, tf, n, norm))
        return added

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
            if self.replicas:
                self.replicas.wrote(conn)
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
        return document_from_row(next(iter(rows.values()))) if rows else None

    def documents(self) -> list[Document]:
        rows = self._rows(self.db, "true ORDER BY key", [])
        return [document_from_row(r) for r in rows.values()]

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
            "keyword_index": self.manifest.get("keyword_index", "sql"),
            "extensions": self.manifest.get("extensions", {}),
            "replicas": self.replicas.describe(),
            "keyword_titles": True,
            "bytes_on_disk": int(size),
            "created": self.manifest["created"],
        } | (
            {"vectors": {"kind": self.manifest["vector_index"], "dim": self.manifest["encoder"]["dim"]}}
            if self.manifest.get("encoder")
            else {}
        )

    @contextlib.contextmanager
    def snapshot(self, *, replica: bool = False) -> Iterator[PgSnapshot]:
        """One REPEATABLE READ, READ ONLY transaction: every retriever and row fetched inside sees one
        committed state; with ``replica``, on the next replica that is up (see :mod:`.replicas`), else on the
        primary."""
        import psycopg

        replica = self.replicas.pick() if replica and self.replicas else None
        try:
            db = replica.conn if replica else self.db
            # one round trip: the transaction and the collection's statistics in it (no parameters: the cid is ours)
            cur = db.execute(f"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {STATS} WHERE id = {int(self.cid)}")
            cur.nextset()
            stats = cur.fetchone()
        except (psycopg.OperationalError, BackendError) as exc:
            if replica is None:
                if isinstance(exc, BackendError):
                    raise
                raise lost_connection(self.url, exc) from exc
            self.replicas.down(replica, exc)
            raise ReplicaLost(f"replica {redact(replica.url)} failed: {last_line(exc)}") from exc
        try:
            yield PgSnapshot(self, db, stats)
        except psycopg.OperationalError as exc:  # the server went away; the next call connects again
            if replica is not None:
                self.replicas.down(replica, exc)
                raise ReplicaLost(f"replica {redact(replica.url)} failed: {last_line(exc)}") from exc
            raise lost_connection(self.url, exc) from exc
        finally:
            with contextlib.suppress(psycopg.Error):
                db.execute("COMMIT")  # after an error inside: PostgreSQL rolls back instead

    def _search(self, query: str, opts: SearchOptions, query_vector: Any):
        """On a replica when the collection has some: one that fails meanwhile is passed over and the search runs
        again on the next (the primary when none is left). Keyword search on pg_textsearch stays on the primary:
        pg_textsearch 0.6 does not replicate its index to hot standbys (timescale/pg_textsearch#342 and #345,
        fixed after 0.6.1)."""
        tries = len(self.replicas.members) if self.replicas and not (self.bm25 and opts.mode != "dense") else 0
        for attempt in range(tries + 1):
            try:
                with self.snapshot(replica=attempt < tries) as snap:
                    return search(snap, query, opts, query_vector=query_vector)
            except ReplicaLost:
                continue
        raise AssertionError("unreachable: the last try reads from the primary")

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


def _indexes(conn, url: str, keyword_index: str, vector_index: str) -> dict[str, Any]:
    """The manifest's ``keyword_index`` (``auto``: pg_textsearch where the server has it) and the versions of
    the extensions the collection's indexes are made with; a clear error when a named one is missing."""
    missing = bm25_missing(conn)
    if keyword_index == "auto":
        keyword_index = "sql" if missing else "pg_textsearch"
    elif keyword_index == "pg_textsearch" and missing:
        raise BackendError(f"the PostgreSQL server at {redact(url)} {missing}", hint=BM25_HINT)
    extensions = {}
    if keyword_index == "pg_textsearch":
        extensions["pg_textsearch"] = enable(conn, url, "pg_textsearch", BM25_HINT)
    if vector_index == "diskann":
        hint = "Install pgvectorscale (`textlens postgres start` runs a server with it), or use --vector-index hnsw."
        extensions["vectorscale"] = enable(conn, url, "vectorscale", hint)
    return {"keyword_index": keyword_index, "extensions": extensions}


def _check_extensions(conn, url: str, name: str, manifest: dict[str, Any]) -> None:
    """The server still has each extension the collection's indexes were made with, at that version or newer."""
    for extension, made in manifest.get("extensions", {}).items():
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (extension,)).fetchone()
        if row is None or version_tuple(row[0]) < version_tuple(made):
            now = "does not have it" if row is None else f"has {row[0]}"
            raise BackendError(
                f"collection {name!r} in {redact(url)} was indexed with {extension} {made}; the server {now}",
                hint=f"Install {extension} {made} or newer (ALTER EXTENSION {extension} UPDATE;), or rebuild the "
                "collection with --keyword-index sql.",
            )
    if manifest.get("keyword_index") == "pg_textsearch":
        missing = bm25_missing(conn)
        if missing:
            raise BackendError(f"collection {name!r} needs pg_textsearch; {redact(url)} {missing}", hint=BM25_HINT)


def _abandon(conn, standbys: Replicas) -> None:
    conn.close()
    standbys.close()


def _replicas(conn, url: str, urls: list[str]) -> Replicas:
    replicas = Replicas(urls)
    if replicas:
        try:
            replicas.check_roles(conn, url)
        except BaseException:
            replicas.close()
            raise
    return replicas
