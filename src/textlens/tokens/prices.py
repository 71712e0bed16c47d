"""What tokens cost: a price per million input tokens and a context window per tokenizer, of one model that uses
it (``prices.json``, dated list prices; a JSON file of the same shape, or ``--price NAME=USD``, for your own)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from textlens.errors import InputError


@dataclass(frozen=True)
class Price:
    """What a model that uses a tokenizer charges per million input tokens, and its context window."""

    model: str = ""
    usd_per_million: float | None = None
    context: int | None = None

    def cost(self, tokens: float) -> float | None:
        """US dollars for ``tokens`` input tokens; ``None`` without a price."""
        return tokens * self.usd_per_million / 1e6 if self.usd_per_million else None


def price_table(path: str | Path | None = None) -> dict[str, Price]:
    """Prices and context windows per tokenizer name: textlens's table (list prices on the date it gives), or a
    JSON file of the same shape (``{"tokenizers": {"gpt-4o": {"model", "usd_per_million", "context"}}}``)."""
    if path is None:
        raw = resources.files("textlens.tokens").joinpath("prices.json").read_text(encoding="utf-8")
        where = "textlens's prices.json"
    else:
        where = str(path)
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the price table {path}: {exc.strerror}") from None
    try:
        rows = json.loads(raw)["tokenizers"]
        return {name: _price(row, f"{where}: {name}") for name, row in rows.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{where}: not a price table ({exc})",
            hint='{"tokenizers": {"gpt-4o": {"model": "GPT-4o", "usd_per_million": 2.5, "context": 128000}}}',
        ) from None


def _price(row: dict[str, Any], where: str) -> Price:
    usd, context = row.get("usd_per_million"), row.get("context")
    for key, value in (("usd_per_million", usd), ("context", context)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
            raise InputError(f"{where}: {key} must be a positive number, got {value!r}")
    return Price(str(row.get("model", "")), float(usd) if usd is not None else None, int(context) if context else None)


def parse_price(text: str) -> tuple[str, float]:
    """``"gpt-4o=2.5"`` as ``("gpt-4o", 2.5)``: the CLI's ``--price``."""
    name, sep, value = text.partition("=")
    try:
        usd = float(value)
    except ValueError:
        usd = -1.0
    if not sep or not name.strip() or not usd > 0:
        raise InputError(f"--price takes NAME=USD (dollars per million tokens), got {text!r}", hint="gpt-4o=2.5")
    return name.strip(), usd


def with_prices(table: dict[str, Price], usd: dict[str, float]) -> dict[str, Price]:
    """``table`` with these prices per million input tokens, by tokenizer name (a name it lacks is added)."""
    return table | {name: replace(table.get(name, Price(model=name)), usd_per_million=v) for name, v in usd.items()}
