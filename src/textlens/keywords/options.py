"""How keywords are found: :class:`KeywordOptions`, the one definition that :func:`textlens.extract_keywords`,
``textlens keywords`` and ``POST /api/keywords`` take their defaults, ranges and help texts from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from textlens.config import DEFAULT_ENCODER
from textlens.errors import InputError
from textlens.options import Options, option

LLM_MODES = ("write", "choose", "shared")
MAX_SUM_COMBINATIONS = 2_000_000


def split_list(text: str) -> tuple[str, ...]:
    """``"a, b,c"`` as ``("a", "b", "c")``: the CLI's form of a list of phrases or names."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


@dataclass(frozen=True, kw_only=True)
class KeywordOptions(Options):
    """Options of keyword extraction: KeyBERT's method (embeddings), or a language model (``llm``)."""

    k: int = option(
        5, ge=1, le=100, flags=("--k", "-k", "--top-n"),
        help="Keywords per document (KeyBERT calls it top_n; --top-n is kept as a second name).",
    )  # fmt: skip
    ngram_range: tuple[int, int] | None = option(
        None, ge=1, le=8, help="Fewest and most words per phrase, 1 to 8 (default 1 1; with an LLM 1 3)."
    )
    languages: tuple[str, ...] = option(
        ("english",), flags=("--language",), cli_type=str, parse=split_list,
        help="Stop words and stemmer; several for a mixed corpus: english,french.",
    )  # fmt: skip
    stop_words: tuple[str, ...] | None = option(
        None, cli=False, help="Your own stop words, instead of the languages' lists (CLI: --stop-words FILE)."
    )
    candidates: tuple[str, ...] | None = option(
        None, cli_type=str, parse=split_list,
        help="Rank only these phrases (those that occur in a document); on the CLI comma-separated.",
    )  # fmt: skip
    diversity: float | None = option(
        None, ge=0, le=1, help="Maximal Marginal Relevance weight: 0 ranks by similarity alone, 1 is most diverse."
    )
    max_sum: bool = option(False, help="Max Sum Similarity: the k least alike among the nr_candidates best.")
    nr_candidates: int = option(
        20, ge=1, le=100, help="Max Sum's pool; with llm_mode choose, the candidates the model chooses among."
    )
    seed_keywords: tuple[str, ...] | None = option(
        None, cli_type=str, parse=split_list, help="Steer the ranking toward these words (on the CLI comma-separated)."
    )
    merge: bool = option(True, help="Merge phrases with the same stems (optimize, optimization) into one keyword.")
    order: str = option("score", choices=("score", "text"), help="score (best first), or text (first occurrence).")
    encoder: Any = option(
        DEFAULT_ENCODER, rest=False, help="The model that embeds documents and phrases (Python: also an Encoder)."
    )
    llm: Any = option(
        None, rest=False,
        help="A language model finds the keywords: a catalog name, a .gguf path or openai:URL[#MODEL] "
        "(Python: also a Generator); every keyword it gives is looked up in the text.",
    )  # fmt: skip
    llm_mode: str = option(
        "write", choices=LLM_MODES,
        help="With llm: write (the model writes them), choose (it picks among textlens's candidates) or shared "
        "(write, one call for near-duplicate documents).",
    )  # fmt: skip
    ungrounded: str = option("drop", choices=("drop", "mark"), help="With llm: keywords not in the text.")
    threshold: float | None = option(
        None, ge=0, le=1, help="llm_mode shared: the cosine that makes documents near-duplicates (default: from data)."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        lo, hi = self.word_range
        if lo < 1 or hi < lo:
            raise InputError(
                f"ngram_range ({lo}, {hi}) is not a range of phrase lengths",
                hint="Give the fewest and the most words per phrase, e.g. --ngram-range 1 2.",
                api_hint="Give the fewest and the most words per phrase, e.g. ngram_range [1, 2].",
            )
        if self.max_sum and self.diversity:
            raise InputError("choose one way to diversify: diversity (MMR) or max_sum")
        if self.max_sum and self.nr_candidates < self.k:
            raise InputError(f"nr_candidates ({self.nr_candidates}) must be at least k ({self.k}) for max_sum")
        if self.max_sum and math.comb(self.nr_candidates, self.k) > MAX_SUM_COMBINATIONS:
            raise InputError(
                f"max_sum would compare {math.comb(self.nr_candidates, self.k):,} combinations",
                hint="Lower nr_candidates or k, or use diversity (MMR), which scales to any size.",
            )
        if self.threshold is not None and self.threshold == 0:
            raise InputError("the near-duplicate threshold must lie in (0, 1], got 0", hint="0.9 is a strict one.")
        if self.llm is not None and (self.candidates or self.max_sum or self.seed_keywords):
            raise InputError(
                "candidates, max_sum and seed_keywords are for the embedding method, not for a language model",
                hint="Leave them out, or leave out llm.",
            )
        if self.llm is None and self.threshold is not None:
            raise InputError("threshold goes with llm_mode shared", hint="Add llm, or leave threshold out.")

    @property
    def word_range(self) -> tuple[int, int]:
        """``ngram_range``, or its default for the method: 1 1 for embeddings, 1 3 for a language model."""
        if self.ngram_range is not None:
            return tuple(self.ngram_range)  # type: ignore[return-value]
        return (1, 3) if self.llm is not None else (1, 1)
