"""textlens: see text the way language models do.

Everything a user needs is here; the rest lives in named subpackages (``textlens.tokens``, ``textlens.search``...)
or is private.

Example:
    >>> import textlens
    >>> textlens.compare("Tokenizers differ.", ["gpt-4o", "bert-base-uncased"]).counts()    # doctest: +SKIP
    >>> col = textlens.Collection.create("notes")                                         # doctest: +SKIP
    >>> col.add_path("notes/", chunk="paragraph")                                         # doctest: +SKIP
    >>> col.search("log rotation", mode="hybrid", k=5)                                    # doctest: +SKIP
    >>> col.ask("How often are the logs rotated?")                                        # doctest: +SKIP
"""

# ``ask`` and ``evaluate`` are functions here, though subpackages of the same names exist: importing a name from
# a subpackage loads the subpackage first, then binds the name, so the function is what ``textlens.ask`` is.
from textlens.ask import Answer, ask
from textlens.classify import EmbeddingClassifier as Classifier
from textlens.collection import Collection
from textlens.corpus import Document, read_documents
from textlens.errors import TextlensError
from textlens.evaluate import evaluate
from textlens.keywords import extract_keywords
from textlens.tokens import Comparison, Tokenizer, compare, corpus_stats, get_tokenizer
from textlens.topics import TopicModel

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Classifier",
    "Collection",
    "Comparison",
    "Document",
    "TextlensError",
    "Tokenizer",
    "TopicModel",
    "__version__",
    "ask",
    "compare",
    "corpus_stats",
    "evaluate",
    "extract_keywords",
    "get_tokenizer",
    "read_documents",
]
