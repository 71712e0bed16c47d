"""The one progress callback signature: ``progress(stage, done, total)``.

``stage`` names what is counted ("embedding", "indexed", a search mode...), ``done`` how
many so far, ``total`` how many in all (0 when unknown). The CLI draws one bar per stage
(``textlens.cli.common.staged_progress``); the server stores the last call in a job.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def renamed(progress: Progress | None, stage: str) -> Progress | None:
    """``progress`` with every stage reported as ``stage`` (for a step inside a larger one)."""
    return (lambda _stage, done, total: progress(stage, done, total)) if progress else None
