"""Collections: documents with a keyword index and vectors, on this machine (``local/``) or in PostgreSQL
(``postgres/``); :mod:`~textlens.index.factory` chooses the backend, :mod:`~textlens.index.base` holds what they
share. Users reach them through ``textlens.Collection``."""

from textlens.index.base import (
    BATCH_SIZE,
    AddReport,
    CollectionBase,
    CollectionConflict,
    CollectionError,
    CollectionNotFound,
    check_name,
)
from textlens.index.factory import collection_exists, create_collection, list_collections, open_collection

__all__ = [
    "BATCH_SIZE",
    "AddReport",
    "CollectionBase",
    "CollectionConflict",
    "CollectionError",
    "CollectionNotFound",
    "check_name",
    "collection_exists",
    "create_collection",
    "list_collections",
    "open_collection",
]
