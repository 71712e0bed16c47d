"""Filters (:mod:`textlens.search.filters`) as a SQLite condition over the document store's JSON metadata."""

from __future__ import annotations

from typing import Any

from textlens.search.filters import OPS, conditions
from textlens.search.retriever import Filters


def compile_filters(filters: Filters, known: set[str]) -> tuple[str, list[Any]]:
    """A SQL condition on ``docs.metadata`` (SQLite's JSON functions) and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    expr = "json_extract(metadata, ?)"
    for field, op, value in conditions(filters, known):
        path = f'$."{field}"'
        if op == "in":
            if not value:
                clauses.append("0")
                continue
            clauses.append(f"{expr} IN ({','.join('?' * len(value))})")
            params.extend([path, *value])
        else:
            clauses.append(f"{expr} {OPS[op]} ?")
            params.extend([path, value])
    return (" AND ".join(clauses) or "1"), params
