"""Connecting to PostgreSQL and its registry of collections: the URL (shown without its password), pgvector
enabled, the registry table checked, a collection's tables made, listed, found; and the errors that say which of
these failed and how to fix it."""

from __future__ import annotations

from typing import Any

from textlens.index.base import CollectionError, check_name

REGISTRY = "textlens_collections"


LOCK_CLASS = 0x7E47  # first half of the advisory lock key of a collection's writer (the second: its id)


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


def connect(url: str):
    """A connection (autocommit) with pgvector's types registered; clear errors when the server
    cannot be reached or has no pgvector."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise BackendError(
            f"cannot connect to PostgreSQL at {redact(url)}: {last_line(exc)}",
            hint="Start the server, or check the host, port, user, password and database in the URL "
            "(postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or ?host=/socket/dir for a local socket).",
        ) from exc
    try:
        ensure_vector(conn, url)
        from pgvector.psycopg import register_vector

        register_vector(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def ensure_vector(conn, url: str) -> None:
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


KEYWORD_INDEXES = ("auto", "pg_textsearch", "sql")
VECTOR_INDEXES = ("auto", "hnsw", "diskann", "exact")

BM25_HINT = (
    "Use PostgreSQL 17 with pg_textsearch in shared_preload_libraries (`textlens postgres start` runs one), or "
    'create the collection with --keyword-index sql (keyword_index="sql"): BM25 computed in SQL, slower.'
)


def bm25_missing(conn) -> str | None:
    """Why pg_textsearch cannot serve on this server, or ``None`` when it can."""
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_textsearch'").fetchone() is None:
        return "has no pg_textsearch extension"
    preload = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
    if "pg_textsearch" not in [p.strip() for p in preload.split(",")]:
        return "has pg_textsearch but does not preload it (shared_preload_libraries)"
    return None


def enable(conn, url: str, extension: str, hint: str) -> str:
    """``CREATE EXTENSION IF NOT EXISTS`` (with what it needs); returns the version enabled."""
    import psycopg

    try:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension} CASCADE")
    except psycopg.errors.UndefinedFile as exc:
        raise BackendError(f"the PostgreSQL server at {redact(url)} has no {extension} extension", hint=hint) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BackendError(
            f"{extension} is installed on {redact(url)} but not enabled in this database, and this user may not "
            "enable it",
            hint=f"Run CREATE EXTENSION {extension} CASCADE; in the database as its owner or a superuser.",
        ) from exc
    return conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (extension,)).fetchone()[0]


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def tables_of(cid: int) -> dict[str, Any]:
    from psycopg import sql

    return {name: sql.Identifier(f"textlens_c{cid}_{name}") for name in ("docs", "terms", "fields")}


def ensure_registry(conn, url: str) -> None:
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


def last_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def lost_connection(url: str, exc: Exception) -> BackendError:
    return BackendError(
        f"the connection to PostgreSQL at {redact(url)} was lost: {last_line(exc)}",
        hint="Check that the server is running and reachable, then retry.",
    )


def create_tables(conn, cid: int, manifest: dict[str, Any]) -> None:
    from psycopg import sql

    t = tables_of(cid)
    enc = manifest.get("encoder")
    vector = sql.SQL(", embedding vector({})").format(sql.Literal(enc["dim"])) if enc else sql.SQL("")
    bm25 = manifest.get("keyword_index") == "pg_textsearch"
    terms = sql.SQL(", bm25_body text NOT NULL, bm25_title text NOT NULL" if bm25 else "")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (key bigint PRIMARY KEY, id text UNIQUE NOT NULL, parent text, title text NOT NULL, "
            "text text NOT NULL, metadata jsonb NOT NULL{}{})"
        ).format(t["docs"], vector, terms)
    )
    if bm25:  # the analysed terms, space-separated: 'simple' keeps them as they are (see snapshot.py)
        for column in ("bm25_body", "bm25_title"):
            conn.execute(
                sql.SQL(
                    "CREATE INDEX {} ON {} USING bm25 ({}) WITH (text_config = 'simple', k1 = 1.2, b = 0.75)"
                ).format(sql.Identifier(bm25_index(cid, column)), t["docs"], sql.Identifier(column))
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
    stmt = vector_index(cid, manifest)
    if stmt is not None:
        conn.execute(stmt)


def vector_index(cid: int, manifest: dict[str, Any]):
    """``CREATE INDEX IF NOT EXISTS textlens_cN_vectors`` for the manifest's HNSW or DiskANN index, or ``None``.
    DiskANN in the plain layout: its compressed layout learns from the rows there when the index is made."""
    from psycopg import sql

    kind = manifest["vector_index"]
    if not manifest.get("encoder") or kind not in ("hnsw", "diskann"):
        return None
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING {} (embedding vector_cosine_ops){}").format(
        sql.Identifier(f"textlens_c{cid}_vectors"),
        tables_of(cid)["docs"],
        sql.SQL(kind),
        sql.SQL(" WITH (storage_layout = plain)" if kind == "diskann" else ""),
    )


def bm25_index(cid: int, column: str) -> str:
    """The name of a pg_textsearch index over ``column`` (``bm25_body`` or ``bm25_title``; ``to_bm25query`` and
    ``bm25_spill_index`` name it)."""
    return f"textlens_c{cid}_{column}"


def list_pg_collections(url: str) -> list[dict[str, Any]]:
    """Every collection in the database at ``url``."""
    conn = connect(url)
    try:
        ensure_registry(conn, url)
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
        ensure_registry(conn, url)
        return conn.execute(f"SELECT 1 FROM {REGISTRY} WHERE name = %s", (check_name(name),)).fetchone() is not None
    finally:
        conn.close()
