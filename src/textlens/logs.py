"""Logging: textlens logs through the standard :mod:`logging` module under the ``textlens`` logger.

Nothing is configured at import. The CLI calls :func:`configure` with ``--log-level``
(or ``TEXTLENS_LOG_LEVEL``); a library user configures ``logging`` as usual.
Tracebacks of unexpected errors are logged at DEBUG level.
"""

from __future__ import annotations

import logging
import os

LEVELS = ("debug", "info", "warning", "error")


def level_from_env(default: str = "warning") -> str:
    """``TEXTLENS_LOG_LEVEL``, or ``default``."""
    return (os.environ.get("TEXTLENS_LOG_LEVEL") or default).strip().lower()


def configure(level: str | None = None) -> int:
    """Send ``textlens`` log records to stderr at ``level`` (default: ``TEXTLENS_LOG_LEVEL`` or warning)."""
    from textlens.errors import InputError

    name = (level or level_from_env()).lower()
    if name not in LEVELS:
        raise InputError(f"unknown log level {name!r}", hint="Use one of " + ", ".join(LEVELS) + ".")
    logger = logging.getLogger("textlens")
    logger.setLevel(name.upper())
    if not any(getattr(h, "_textlens", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._textlens = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return logger.level
