"""Collections in PostgreSQL with pgvector: the same methods and search engine as a local collection."""

from textlens.index.postgres.collection import PgCollection
from textlens.index.postgres.connection import BackendError, exists, is_postgres, list_pg_collections

__all__ = ["BackendError", "PgCollection", "exists", "is_postgres", "list_pg_collections"]
