"""Collections: a document store, a keyword index and vectors in one directory."""

from textlens.index.collection import (
    AddReport,
    Collection,
    CollectionConflict,
    CollectionError,
    CollectionNotFound,
    list_collections,
)

__all__ = ["AddReport", "Collection", "CollectionConflict", "CollectionError", "CollectionNotFound", "list_collections"]
