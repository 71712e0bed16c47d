"""The one way tests find ``../shared`` (data and tokenizer files that are never copied into the repo).

``TEXTLENS_TEST_SHARED`` overrides the place. A test whose file is missing skips with the path it
looked for; under CI (``CI`` set) the conftest turns every skip into a failure, so nothing is
skipped silently there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_TEST_SHARED", ROOT.parent / "shared"))


def shared(relpath: str) -> Path:
    """``SHARED / relpath``, or skip the test saying where it looked."""
    path = SHARED / relpath
    if not path.exists():
        pytest.skip(f"{path} not found (the shared data beside the repository; set TEXTLENS_TEST_SHARED)")
    return path
