"""The shape of the source tree: files small enough to read (the design's rule)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_source_files_stay_small_or_say_why():
    """A file in src/ over 450 lines states its reason in its docstring (the design's rule: one purpose a file)."""
    for path in sorted((ROOT / "src").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 450:
            assert "over 450 lines for a stated reason" in text, f"{path.relative_to(ROOT)} is over 450 lines"
