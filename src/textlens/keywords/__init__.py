"""Keywords of documents, KeyBERT's method and beyond: see :func:`extract_keywords`."""

from textlens.keywords.extract import Keyword, KeywordResult, extract_keywords

__all__ = ["Keyword", "KeywordResult", "extract_keywords"]
