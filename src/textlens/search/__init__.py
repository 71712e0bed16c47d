"""Search: results, fusion, rerankers and the search pipeline over a collection."""

from textlens.search.fusion import convex, rrf
from textlens.search.options import SearchOptions
from textlens.search.rerank import CrossEncoderReranker, Reranker
from textlens.search.results import Hit, Results

__all__ = ["CrossEncoderReranker", "Hit", "Reranker", "Results", "SearchOptions", "convex", "rrf"]
