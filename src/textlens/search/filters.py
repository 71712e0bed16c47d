"""Metadata filters: equality, ranges and sets, checked once (:func:`conditions`) for every backend to compile.

Python form: ``{"topic": "Science", "year": {"gte": 1990, "lt": 2000}, "lang": {"in": ["en", "de"]}}``;
a bare list means ``in`` (``{"lang": ["en", "de"]}``).
CLI form (each ``--filter``): ``topic=Science``, ``year>=1990``, ``year<2000``, ``lang in en,de``,
``topic!=Arts``. Values that parse as JSON numbers or booleans are compared as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from textlens.errors import ConflictingInput, InputError
from textlens.search.retriever import Filters

OPS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_SCALAR = {"type": ["string", "number", "boolean"]}
_LIST = {"type": "array", "items": _SCALAR}
SCHEMA = {  # the Python form as JSON Schema (the REST API's document); field names depend on the collection
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    _SCALAR,
                    _LIST,
                    {
                        "type": "object",
                        "properties": {**dict.fromkeys(OPS, _SCALAR), "in": _LIST},
                        "additionalProperties": False,
                    },
                ]
            },
        },
        {"type": "null"},
    ]
}
_CLI = re.compile(r"^\s*([\w.\-]+)\s*(>=|<=|!=|=|>|<|\s+in\s+)\s*(.*?)\s*$")
_CLI_OPS = {">=": "gte", "<=": "lte", "!=": "ne", "=": "eq", ">": "gt", "<": "lt"}


def _value(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool) else text


def parse_cli_filters(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Parse ``--filter`` strings into the Python filter form."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        match = _CLI.match(item)
        if not match:
            raise InputError(
                f"cannot parse filter {item!r}",
                hint="Use field=value, field!=value, field>=n, field<n or 'field in a,b'.",
            )
        field, op, raw = match.groups()
        cond = out.setdefault(field, {})
        if op.strip() == "in":
            cond["in"] = [_value(v.strip()) for v in raw.split(",") if v.strip()]
        else:
            cond[_CLI_OPS[op]] = _value(raw)
    return out


def _scalar(field: str, value: Any) -> str | int | float | bool:
    """A value a condition can compare with: text, a number or a boolean."""
    if isinstance(value, str | int | float | bool):
        return value
    raise InputError(
        f"filter {field!r}: cannot compare with {value!r}",
        hint="Compare with text, a number or true/false; for several values use 'in' with a list.",
    )


def conditions(filters: Filters, known: set[str]) -> Iterator[tuple[str, str, Any]]:
    """``(field, op, value)`` of each condition, checked: a known field, a known operator, ``in`` with a
    list (its values each checked), other values text, a number or a boolean.

    Raises:
        ConflictingInput: a field no document has (the message lists the known ones).
        InputError: an unknown operator, or a bad value.
    """
    for field, cond in filters.items():
        if field not in known:
            raise ConflictingInput(
                f"unknown filter field {field!r}",
                hint="Fields in this collection: " + (", ".join(sorted(known)) or "none") + ".",
            )
        if isinstance(cond, list | tuple):
            cond = {"in": cond}
        elif not isinstance(cond, Mapping):
            cond = {"eq": cond}
        for op, value in cond.items():
            if op == "in":
                if not isinstance(value, list | tuple):
                    raise InputError(
                        f"filter {field!r}: 'in' takes a list of values, not {value!r}",
                        hint='For example {"in": ["en", "de"]}.',
                    )
                yield field, op, [_scalar(field, v) for v in value]
            elif op in OPS:
                yield field, op, _scalar(field, value)
            else:
                raise InputError(
                    f"unknown filter operator {op!r} on {field!r}", hint="Operators: " + ", ".join([*OPS, "in"]) + "."
                )
