"""One base error for everything textlens raises on purpose.

Every error says what happened, why, and how to fix it. Callers catch
:class:`TextlensError` to handle them all; the CLI prints the message and exits
with status 2 instead of a traceback. What kind of failure it is (not found,
conflict, unavailable) is told by the class, never by the wording: the REST API
maps classes to status codes.
"""

from __future__ import annotations


class TextlensError(Exception):
    """Base class of all textlens errors.

    Args:
        message: what happened and why.
        hint: how to fix it (printed on its own line). It may name CLI flags.
        api_hint: the same advice for a Python or REST caller (parameter names, no CLI flags);
            ``None`` when ``hint`` already names no CLI flag.
    """

    def __init__(self, message: str, *, hint: str | None = None, api_hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.api_hint = api_hint
        super().__init__(message if hint is None else f"{message}\nHint: {hint}")

    def __reduce__(self):
        """Pickled with its hints (an error raised in a worker process reaches the server whole)."""
        return _restore, (type(self), self.args, self.__dict__)

    @property
    def rest_hint(self) -> str | None:
        """The hint shown to REST clients."""
        return self.api_hint if self.api_hint is not None else self.hint


class NotFound(TextlensError):
    """Something named does not exist (a collection, a document, a job, a tokenizer)."""


class Conflict(TextlensError):
    """The request clashes with the current state (exists already, locked by another writer)."""


class Forbidden(TextlensError):
    """The server's operator has not allowed this (a model, a path, a collection)."""


class AssetError(TextlensError):
    """A named file could not be found, fetched or verified."""


class TokenizerError(TextlensError):
    """A tokenizer name is unknown or its definition file cannot be parsed."""


class UnknownTokenizer(TokenizerError, NotFound):
    """No tokenizer has this name."""


class InputError(TextlensError):
    """The text or file given by the user cannot be used as it is."""


class ConflictingInput(InputError, Conflict):
    """Well-formed input that does not fit the data it is about: a filter on a field no document has, a question to
    an empty collection, an id twice in one add, a pivot language the parallel text lacks. An :class:`InputError`
    to Python callers; over REST a 409, as the same request can succeed with other data."""


class MissingPart(InputError, NotFound):
    """A part that what was named lacks: a layer or head a model does not have. An :class:`InputError` to Python
    callers; over REST a 404, as the schema cannot know each model's size."""


class TooLarge(InputError):
    """Input too large for what has to hold it: a question that leaves no room for passages in the model's
    context. Over REST a 413, as a schema's character limits cannot say how many tokens a text takes."""


class MissingDependency(TextlensError, ImportError):
    """An optional package a step needs is not installed (the hint names the pip extra)."""


def _restore(cls: type[TextlensError], args: tuple, state: dict) -> TextlensError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error
