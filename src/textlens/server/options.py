"""REST request models made from a task's options dataclass (:mod:`textlens.options`): the same defaults, ranges,
choices and help texts as the Python API and the CLI, with the request's own fields (the query, ``stream``)."""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from textlens.options import Options


def rest_fields(cls: type[Options]) -> list:
    """The fields of ``cls`` the REST API offers."""
    return [f for f in cls.fields() if f.metadata.get("rest", True)]


def request_model(cls: type[Options], name: str, **extra: Any) -> type[BaseModel]:
    """A pydantic model of ``cls``'s REST fields, ``extra`` (``name=(type, Field(...))``) first.

    A field typed ``Any`` (a Python object such as a reranker) travels as its name, a string; one with choices
    is a ``Literal`` of them."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = dict(extra)
    for f in rest_fields(cls):
        meta = f.metadata
        kind: Any = str | None if hints[f.name] is Any else hints[f.name]
        if meta.get("choices"):
            kind = Literal[meta["choices"]]  # type: ignore[valid-type]
            kind = kind | None if f.default is None else kind
        fields[f.name] = (kind, Field(f.default, ge=meta.get("ge"), le=meta.get("le"), description=meta["help"]))
    return create_model(name, **fields)


def options_of(cls: type[Options], body: BaseModel, **overrides: Any) -> Options:
    """The options a request asks for (its own fields left out), with what the server decides (``overrides``)."""
    names = {f.name for f in rest_fields(cls)}
    return cls.make(**{**body.model_dump(include=names), **overrides})
