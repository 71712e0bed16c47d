"""Keywords of documents, KeyBERT's method and beyond: see :func:`extract_keywords`."""

from textlens.keywords.base import Keyword, KeywordResult
from textlens.keywords.extract import extract_keywords, find_keywords
from textlens.keywords.options import KeywordOptions

__all__ = ["Keyword", "KeywordOptions", "KeywordResult", "extract_keywords", "find_keywords"]
