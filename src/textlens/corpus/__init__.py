"""Reading documents and cutting them into passages."""

from textlens.corpus.chunkers import Chunker, split_paragraphs, split_sentences
from textlens.corpus.document import Document
from textlens.corpus.readers import FieldMap, ReadReport, batched, read_documents

__all__ = [
    "Chunker",
    "Document",
    "FieldMap",
    "ReadReport",
    "batched",
    "read_documents",
    "split_paragraphs",
    "split_sentences",
]
