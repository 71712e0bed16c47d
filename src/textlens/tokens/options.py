"""Options of the token premium table, defined once (:mod:`textlens.options`): :func:`textlens.tokens.languages`,
``textlens tokens languages`` and ``POST /api/tokens/languages`` take their defaults, ranges and help texts here."""

from __future__ import annotations

from dataclasses import dataclass

from textlens.options import Options, option


@dataclass(frozen=True, kw_only=True)
class LanguageOptions(Options):
    """Options of the premium table: ``textlens tokens languages``, :func:`languages` and
    ``POST /api/tokens/languages``."""

    pivot: str = option("eng", help="The language premiums are measured against, by its code in the file.")
    complete_only: bool = option(
        True, help="Leave out translations the file marks incomplete (a stage below 4, as the UDHR's are)."
    )
    top: int = option(20, ge=1, le=500, help="How many of the most expensive languages to call out per tokenizer.")
    words: int = option(
        1000, ge=1, le=10_000_000, help="The document the cost and context figures are for: this many pivot words."
    )
    lang_field: str | None = option(
        None, rest=False, help="The JSONL field naming the language (default: lang, language or code)."
    )
    id_field: str | None = option(
        None, rest=False, help="The JSONL field that aligns segments (default id; without one, a record per language)."
    )
    text_field: str = option("text", rest=False, help="The JSONL field holding the text.")
