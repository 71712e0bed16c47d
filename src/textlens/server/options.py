"""REST request models made from a task's options dataclass (:mod:`textlens.options`): the same defaults, ranges,
choices and help texts as the Python API and the CLI, with the request's own fields (the query, ``stream``)."""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, create_model

from textlens.options import Options, item_bound
from textlens.server.schemas import Body


def rest_fields(cls: type[Options]) -> list:
    """The fields of ``cls`` the REST API offers."""
    return [f for f in cls.fields() if f.metadata.get("rest", True)]


def request_model(
    cls: type[Options],
    name: str,
    schema: dict[str, Any] | None = None,
    most: dict[str, int] | None = None,
    **extra: Any,
) -> type[BaseModel]:
    """A pydantic model of ``cls``'s REST fields, ``extra`` (``name=(type, Field(...))``) first (one named as a field
    of ``cls`` replaces it); ``schema`` adds to
    its JSON schema (examples, which fields go together); ``most`` caps the items of list fields, by name.

    A field typed ``Any`` (a Python object such as a reranker) travels as its name, a string; one with choices
    is a ``Literal`` of them. Types are strict and unknown fields refused, as in every request body (:class:`Body`)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = dict(extra)
    for f in rest_fields(cls):
        if f.name in fields:  # an endpoint narrows this option (``extra`` gives its own type and default)
            continue
        meta = f.metadata
        kind: Any = str | None if hints[f.name] is Any else hints[f.name]
        if meta.get("choices"):
            kind = Literal[meta["choices"]]  # type: ignore[valid-type]
            kind = kind | None if f.default is None else kind
        bounds = {"ge": meta.get("ge"), "le": meta.get("le")}
        array = _as_array(kind, bounds)
        if array is not None:  # the bounds hold for its items; ``most`` may cap its length
            limit = (most or {}).get(f.name)
            fields[f.name] = (array, Field(f.default, strict=False, max_length=limit, description=meta["help"]))
        else:
            extra = {"json_schema_extra": meta["schema"]} if meta.get("schema") else {}
            fields[f.name] = (kind, Field(f.default, description=meta["help"], **bounds, **extra))
    base = type(f"{name}Base", (Body,), {"model_config": {"json_schema_extra": schema or {}}})
    return create_model(name, __base__=base, **fields)


def _as_array(kind: Any, bounds: dict[str, float | None]) -> Any:
    """A tuple type (``tuple[float, float] | None``) that takes a JSON array, its items strict and within
    ``bounds``; ``None`` for any other type. (Strict pydantic wants a Python tuple, and JSON has only arrays.)"""
    args = typing.get_args(kind)
    tuple_type = next((a for a in (kind, *args) if typing.get_origin(a) is tuple), None)
    if tuple_type is None:
        return None
    items = tuple(
        t if t is Ellipsis else Annotated[t, Strict(), Field(**{k: item_bound(b, i) for k, b in bounds.items()})]
        for i, t in enumerate(typing.get_args(tuple_type))
    )
    strict_tuple = tuple[items]  # type: ignore[valid-type]
    return strict_tuple | None if type(None) in args else strict_tuple


def options_of(cls: type[Options], body: BaseModel, **overrides: Any) -> Options:
    """The options a request asks for (its own fields left out), with what the server decides (``overrides``)."""
    names = {f.name for f in rest_fields(cls)}
    return cls.make(**{**body.model_dump(include=names), **overrides})
