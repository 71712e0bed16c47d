"""Collections on this machine: a folder with SQLite (documents), tantivy (keywords) and vector segments."""

from textlens.index.local.collection import LocalCollection

__all__ = ["LocalCollection"]
