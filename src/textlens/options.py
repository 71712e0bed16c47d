"""Options defined once: a frozen dataclass per task, each field with its default, help text, range and choices.

The Python functions take keyword arguments whose defaults are the dataclass's own (``k: int = SearchOptions.k``),
the CLI's typer options are made from the fields (:func:`textlens.cli.options.with_options`), and so are the REST
API's request models (:func:`textlens.server.options.request_model`). A default, a range or a help text is written
in exactly one place, and a test checks that Python, CLI and REST agree for every task.

Examples:
    >>> @dataclass(frozen=True, kw_only=True)
    ... class Demo(Options):
    ...     k: int = option(10, help="How many.", ge=1)
    >>> Demo(k=0)
    Traceback (most recent call last):
    ...
    textlens.errors.InputError: k must be at least 1, got 0
    Hint: How many.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from textlens.errors import InputError


def option(
    default: Any,
    *,
    help: str,
    choices: Sequence[Any] | None = None,
    ge: float | Sequence[float] | None = None,
    le: float | Sequence[float] | None = None,
    flags: Sequence[str] | None = None,
    cli_type: Any = None,
    parse: Callable[[Any], Any] | None = None,
    cli: bool = True,
    rest: bool = True,
    objects: bool = False,
    schema: dict[str, Any] | None = None,
) -> Any:
    """A field of an options dataclass.

    Args:
        default: the default (``None`` means "decided at run time", which ``help`` then says).
        help: one or two sentences: what it does, its unit, what the default is and why.
        choices: the only values allowed (``None`` is allowed too when it is the default).
        ge: the smallest value allowed (numbers; for a tuple, each item's, or a tuple of them, one per item).
        le: the largest value allowed (numbers; for a tuple, each item's, or a tuple of them, one per item).
        flags: the CLI's option names (default ``--field-name``); a short one may follow.
        cli_type: for a field the CLI takes as text (``"1,1"`` for a pair, ``field=value`` for filters), the type
            typer sees.
        parse: the function that turns the CLI's text into the field's value.
        cli: whether the CLI offers the field.
        rest: whether the REST API offers it (a Python object such as a model instance cannot travel over HTTP;
            a server may decide a field for its clients).
        objects: besides the ``choices`` (names), Python callers may pass an object (a reducer, a clusterer).
        schema: the JSON Schema of the value where its type says too little (the REST API's document).
    """
    meta = {"help": help, "choices": tuple(choices) if choices is not None else None, "ge": ge, "le": le}
    meta |= {"flags": tuple(flags) if flags else None, "cli_type": cli_type, "parse": parse, "cli": cli, "rest": rest}
    meta |= {"objects": objects, "schema": schema}
    return field(default=default, metadata=meta)


def same_as(options: type[Options], name: str) -> Any:
    """A field defined as another task's field ``name`` is: one definition for an option two tasks share."""
    original = next(f for f in dataclasses.fields(options) if f.name == name)
    return field(default=original.default, metadata=original.metadata)


@dataclass(frozen=True, kw_only=True)
class Options:
    """Base of every task's options: checks each field against its choices and range when made."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check(f, getattr(self, f.name))

    @classmethod
    def fields(cls) -> tuple[dataclasses.Field, ...]:
        return dataclasses.fields(cls)

    @classmethod
    def make(cls, **values: Any) -> Self:
        """Options from keyword arguments; an unknown name is an :class:`InputError` that lists the known ones."""
        known = {f.name for f in cls.fields()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"unknown option(s) {', '.join(unknown)} for {cls.__name__}",
                hint="Known: " + ", ".join(sorted(known)) + ".",
            )
        return cls(**values)

    @classmethod
    def merged(cls, options: Self | None, **changes: Any) -> Self:
        """``options`` (default: the defaults) with ``changes`` applied by name and checked; ``options`` itself,
        not a copy, when there are no changes (a search or an answer handed ready options builds none)."""
        if not changes:
            return options if options is not None else cls()
        return cls.make(**{**(options.to_dict() if options else {}), **changes})

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in self.fields()}


def check(f: dataclasses.Field, value: Any) -> None:
    """``value`` against the field's choices and range; an :class:`InputError` naming the field if it is off."""
    meta = f.metadata
    if value is None and f.default is None:
        return
    named = isinstance(value, str) or not meta.get("objects")
    if meta.get("choices") is not None and named and value not in meta["choices"]:
        raise InputError(
            f"{f.name} must be one of {', '.join(map(str, meta['choices']))}, got {value!r}",
            hint=meta["help"],
        )
    ge, le = meta.get("ge"), meta.get("le")
    if ge is None and le is None:
        return
    if not isinstance(value, tuple | list):
        return _in_range(f, value, ge, le)
    for i, item in enumerate(value):  # a tuple's range holds for each item (or is given per item)
        _in_range(f, item, item_bound(ge, i), item_bound(le, i))


def item_bound(bound: float | Sequence[float] | None, i: int) -> float | None:
    """The bound of a tuple's item ``i``: ``bound`` itself, or its ``i``-th value when given per item."""
    return bound[i] if isinstance(bound, Sequence) and i < len(bound) else bound  # type: ignore[return-value]


def _in_range(f: dataclasses.Field, value: Any, ge: float | None, le: float | None) -> None:
    meta = f.metadata
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{f.name} must be a number, got {value!r}", hint=meta["help"])
    if (ge is not None and value < ge) or (le is not None and value > le):
        bound = f"between {ge:g} and {le:g}" if ge is not None and le is not None else None
        bound = bound or (f"at least {ge:g}" if ge is not None else f"at most {le:g}")
        raise InputError(f"{f.name} must be {bound}, got {value!r}", hint=meta["help"])


def pair(text: str | None, name: str) -> tuple[float, float] | None:
    """``"0.9,0.4"`` as ``(0.9, 0.4)`` (the CLI's form of a pair of numbers); ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        a, b = (float(x) for x in str(text).split(","))
    except ValueError:
        raise InputError(
            f"{name} takes two numbers separated by a comma, got {text!r}", hint="For example 1,1."
        ) from None
    return a, b
