"""Typer options made from a task's options dataclass (:mod:`textlens.options`): one definition, no copy.

``@with_options(SearchOptions)`` adds a ``--field-name`` option for every field the CLI offers (the field's flags,
default and help), parses the text forms (``--weights 1,1``, ``--filter year>=1990``), and calls the command with
``options=SearchOptions(...)``. A parameter the command declares itself (``--mode`` with another help, say) wins.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import typer

from textlens.options import Options


def cli_fields(cls: type[Options], exclude: tuple[str, ...] = ()) -> list[dataclasses.Field]:
    """The fields of ``cls`` the CLI offers."""
    return [f for f in cls.fields() if f.metadata.get("cli", True) and f.name not in exclude]


def cli_default(f: dataclasses.Field) -> Any:
    """The field's default in the form the CLI takes it: as text where the CLI parses text (``"1,1"``)."""
    if f.metadata.get("parse") is not None and isinstance(f.default, tuple):
        return ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in f.default)
    return f.default


def cli_flags(f: dataclasses.Field) -> tuple[str, ...]:
    flags = f.metadata.get("flags") or ("--" + f.name.replace("_", "-"),)
    if f.default is True:  # a switch that is on: --x/--no-x
        return (f"{flags[0]}/--no-{flags[0][2:]}", *flags[1:])
    return tuple(flags)


def _cli_type(cls: type[Options], f: dataclasses.Field) -> Any:
    if f.metadata.get("cli_type") is not None:
        return f.metadata["cli_type"] | None if f.default is None else f.metadata["cli_type"]
    hint = typing.get_type_hints(cls)[f.name]
    return str | None if hint is Any else hint  # an object-or-name field takes the name on the CLI


def with_options(cls: type[Options], *, exclude: tuple[str, ...] = (), param: str = "options") -> Callable:
    """Give a typer command the options of ``cls`` (those with ``cli=True``, less ``exclude``) and pass it
    ``options=cls(...)`` built from what the user typed."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        own = [p.replace(kind=p.KEYWORD_ONLY) for p in signature.parameters.values() if p.name != param]
        mine = {p.name for p in own}
        fields = [f for f in cli_fields(cls, exclude) if f.name not in mine]
        added = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(cli_default(f), *cli_flags(f), help=f.metadata["help"]),
                annotation=_cli_type(cls, f),
            )
            for f in fields
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {}
            for f in fields:
                value = kwargs.pop(f.name)
                parse = f.metadata.get("parse")
                values[f.name] = parse(value) if parse is not None and value is not None else value
            return command(**kwargs, **{param: cls.make(**values)})

        wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return wrapper

    return decorate
