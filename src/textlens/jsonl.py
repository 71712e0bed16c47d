"""Reading JSON Lines files: one object a line, a broken line an error that names the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from textlens.errors import InputError


def json_lines(lines: Iterable[str], where: object, hint: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line; a line that is not JSON raises :class:`InputError` with
    ``where`` (the file), the line number and ``hint`` (how to mend it)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise InputError(f"{where}, line {number}: not a JSON line ({exc})", hint=hint) from None
