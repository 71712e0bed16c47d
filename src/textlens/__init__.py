"""textlens: see text the way language models do.

The public surface is small; everything else is internal.

Example:
    >>> import textlens
    >>> textlens.get_tokenizer("gpt-4o").encode("hello world")
    [24912, 2375]
"""

from textlens.ask import Answer, ask
from textlens.errors import TextlensError
from textlens.tokens import Comparison, Tokenizer, compare, corpus_stats, get_tokenizer

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Comparison",
    "TextlensError",
    "Tokenizer",
    "__version__",
    "ask",
    "compare",
    "corpus_stats",
    "get_tokenizer",
]
