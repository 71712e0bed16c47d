"""Collections: a document store, a keyword index and vectors in one directory."""

from textlens.index.collection import AddReport, Collection, CollectionError, list_collections

__all__ = ["AddReport", "Collection", "CollectionError", "list_collections"]
