"""How a question is answered: :class:`AskOptions`, the one definition that ``textlens.ask``, ``Collection.ask``,
``textlens ask`` and ``POST /api/collections/{name}/ask`` take their defaults, ranges and help texts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textlens.ask.steps import SYSTEM
from textlens.options import Options, option, same_as
from textlens.search.options import MODES, SearchOptions


@dataclass(frozen=True, kw_only=True)
class AskOptions(Options):
    """Options of a grounded answer: how passages are retrieved, then how the model writes and is checked."""

    mode: str | None = option(
        None, choices=MODES, flags=("--mode", "-m"),
        help="Retrieval: keyword, dense or hybrid (default hybrid; keyword for a collection without vectors).",
    )  # fmt: skip
    k: int = option(
        4, ge=1, le=20, flags=("--k", "-k"),
        help="Passages put in the prompt, as many as fit the context. Fewer than a search's 10: the thresholds "
        "below were tuned with 4, and four 400-token passages fit a 4,096-token context beside the answer.",
    )  # fmt: skip
    filters: dict[str, Any] | None = same_as(SearchOptions, "filters")
    rerank: Any = same_as(SearchOptions, "rerank")
    llm: Any = option(
        None, rest=False,
        help="The model that answers: a catalog name (textlens models list), a .gguf path, hf:ORG/REPO/FILE.gguf, "
        "openai:URL[#MODEL], or a Generator; default TEXTLENS_LLM, else qwen2.5-coder-1.5b.",
    )  # fmt: skip
    style: str = option(
        "sentences", choices=tuple(SYSTEM),
        help="sentences (one or two, each citing) or short (the phrase that answers, cited).",
    )  # fmt: skip
    max_tokens: int = option(160, ge=1, le=1024, help="The longest answer, in tokens.")
    max_passage_tokens: int = option(
        400, ge=16, le=8192, help="A longer passage is cut to this many tokens (the cut is reported)."
    )
    temperature: float = option(0.0, ge=0.0, le=2.0, help="Sampling temperature (0: always the likeliest token).")
    seed: int = option(0, ge=0, le=2**31 - 1, help="The same seed, model, passages and options give the same answer.")
    constrain: bool = option(
        True, help="Bind the model's output to a grammar (citations of given passages only, or the abstention)."
    )
    support_threshold: float | None = option(
        None, ge=0.0, le=1.0,
        help="A citation supports a sentence when the passage holds this share of its new words (default: the "
        "tuned 0.5).",
    )  # fmt: skip
    abstain_threshold: float | None = option(
        None, ge=0.0, le=1.0,
        help="Decline when the model declines with this probability at its first token (default: the tuned 0.15).",
    )  # fmt: skip
    unsupported: str = option(
        "flag", choices=("flag", "drop"), help="flag (keep, marked) or drop sentences no cited passage supports."
    )

    def retrieval(self) -> dict[str, Any]:
        """The options that retrieve the passages, for :meth:`~textlens.index.CollectionBase.search`."""
        return {"k": self.k, "filters": self.filters, "rerank": self.rerank}
