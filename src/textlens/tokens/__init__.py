"""Tokenizer lab: load trained tokenizers by name and compare how they cut text.

Public names: :func:`get_tokenizer`, :func:`compare`, :class:`Tokenizer`,
:func:`analyze`, :func:`corpus_stats`, :data:`PROBE`; across languages :func:`languages`
(token premiums on a parallel text), :class:`LanguageOptions`, :func:`read_parallel`.
"""

from textlens.tokens.analysis import analyze
from textlens.tokens.base import Tokenizer
from textlens.tokens.compare import Comparison, compare
from textlens.tokens.languages import LanguageOptions, LanguageReport, languages
from textlens.tokens.parallel import read_parallel
from textlens.tokens.probe import PROBE, probe_text
from textlens.tokens.registry import availability, get_tokenizer, names
from textlens.tokens.stats import corpus_stats

__all__ = [
    "PROBE",
    "Comparison",
    "LanguageOptions",
    "LanguageReport",
    "Tokenizer",
    "analyze",
    "availability",
    "compare",
    "corpus_stats",
    "get_tokenizer",
    "languages",
    "names",
    "probe_text",
    "read_parallel",
]
