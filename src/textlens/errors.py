"""One base error for everything textlens raises on purpose.

Every error says what happened, why, and how to fix it. Callers catch
:class:`TextlensError` to handle them all; the CLI prints the message and exits
with status 2 instead of a traceback.
"""

from __future__ import annotations


class TextlensError(Exception):
    """Base class of all textlens errors.

    Args:
        message: what happened and why.
        hint: how to fix it (printed on its own line).
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nHint: {hint}")


class AssetError(TextlensError):
    """A named file could not be found, fetched or verified."""


class TokenizerError(TextlensError):
    """A tokenizer name is unknown or its definition file cannot be parsed."""


class InputError(TextlensError):
    """The text or file given by the user cannot be used as it is."""


class MissingDependency(TextlensError, ImportError):
    """An optional package a step needs is not installed (the hint names the pip extra)."""
