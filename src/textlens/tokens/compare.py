"""Compare tokenizers on one text: the data behind ``textlens tokens compare``.

Example:
    >>> from textlens.tokens import compare
    >>> result = compare("héllo wörld", ["gpt-4", "bert-base-uncased"])
    >>> [r.stats.count for r in result.reports]
    [5, 4]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textlens.errors import AssetError, InputError
from textlens.tokens.analysis import CategoryCell, TokenizerReport, analyze, category_cell
from textlens.tokens.base import Tokenizer
from textlens.tokens.probe import PROBE, probe_text
from textlens.tokens.registry import DEFAULT_COMPARE, availability, get_tokenizer


@dataclass
class Comparison:
    """Reports for several tokenizers on the same text, and the category table."""

    text: str
    reports: list[TokenizerReport]
    categories: dict[str, dict[str, CategoryCell]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> how to get it

    def _repr_html_(self) -> str:
        """The ``tokens compare --html`` page (Jupyter shows it inline)."""
        from textlens.tokens.html import comparison_html

        return comparison_html(self)

    def to_dict(self, *, with_segments: bool = False) -> dict[str, Any]:
        """The JSON shape printed by ``--json``."""
        return {
            "text": self.text,
            "tokenizers": [r.to_dict(with_segments=with_segments) for r in self.reports],
            "categories": {
                cat: {name: {"tokens": c.tokens, "flags": c.flags} for name, c in row.items()}
                for cat, row in self.categories.items()
            },
            "skipped": self.skipped,
        }


def default_tokenizers() -> tuple[list[str], dict[str, str]]:
    """The default comparison set that is available here, and what is not."""
    found, missing = [], {}
    for name in DEFAULT_COMPARE:
        info = availability(name)
        if info.available:
            found.append(name)
        else:
            missing[name] = info.where
    return found, missing


def load_all(names: Sequence[str]) -> list[Tokenizer]:
    """Load tokenizers by name; an unknown or missing one is an error."""
    return [get_tokenizer(n) for n in names]


def compare(
    text: str | None = None,
    tokenizers: Sequence[str | Tokenizer] | None = None,
    *,
    categories: bool | None = None,
) -> Comparison:
    """Encode one text with several tokenizers and report each.

    Args:
        text: the text; ``None`` uses the built-in probe text.
        tokenizers: names, paths, ``hf:`` ids or loaded tokenizers; ``None`` uses
            the default set, skipping those not available here.
        categories: add the per-category table (default: only for the probe text).

    Raises:
        InputError: the text is empty.
        TokenizerError, AssetError: a named tokenizer is unknown or not available.
    """
    use_probe = text is None
    text = probe_text() if text is None else text
    if not text:
        raise InputError(
            "the text to tokenize is empty",
            hint="Pass a text, --file PATH, or pipe text on stdin ('-').",
            api_hint="Send a non-empty text, or omit it for the built-in probe text.",
        )
    skipped: dict[str, str] = {}
    if tokenizers is None:
        names, skipped = default_tokenizers()
        if not names:
            raise AssetError(
                "none of the default tokenizers is available here: "
                + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
                hint="Set TEXTLENS_ASSETS to a folder of tokenizer files, or install textlens[assets].",
            )
        tokenizers = names
    loaded = [t if isinstance(t, Tokenizer) else get_tokenizer(t) for t in tokenizers]
    result = Comparison(text=text, reports=[analyze(t, text) for t in loaded], skipped=skipped)
    if categories if categories is not None else use_probe:
        result.categories = {cat: {t.name: category_cell(t, sample) for t in loaded} for cat, sample in PROBE.items()}
    return result
