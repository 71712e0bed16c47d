"""The unit every reader yields and every collection stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def titled(title: str, text: str) -> str:
    """``"{title}\n{text}"``, or the text alone when it has no title or already starts with it."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


@dataclass
class Document:
    """A document or a chunk of one.

    Attributes:
        id: unique within a collection (chunks: ``"{parent}#{n}"``).
        text: the body that is indexed and embedded.
        title: optional title, stored and shown; prefixed to the text when asked.
        metadata: JSON-serialisable values used by filters (equality, ranges, sets).
        parent: id of the document a chunk came from (``None`` for whole documents).
    """

    id: str
    text: str
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None

    @property
    def titled_text(self) -> str:
        """Title and text (the title once, if the text already starts with it): what the keyword
        index reads, and what a collection embeds with ``embed_title``."""
        return titled(self.title, self.text)

    @property
    def doc_id(self) -> str:
        """The id of the whole document (itself, or its parent for a chunk)."""
        return self.parent or self.id
