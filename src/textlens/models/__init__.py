"""Where models come from and what their names mean: :func:`resolve` (one :class:`ModelRef` per name), the LLM
and encoder catalogs (:mod:`.llms`, :mod:`.encoders`), and models that PyPI packages carry in parts
(:mod:`.parts`)."""

from textlens.models.ref import ModelRef, resolve

__all__ = ["ModelRef", "resolve"]
