"""Shared test setup: tokenizer files come from ../shared/tokenizers (never copied here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_TEST_SHARED", ROOT.parent / "shared"))
SHARED_TOKENIZERS = SHARED / "tokenizers"


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point textlens at the shared tokenizer files and a throw-away home, offline."""
    os.environ.setdefault("TEXTLENS_ASSETS", str(SHARED_TOKENIZERS))
    os.environ.setdefault("TEXTLENS_DATA", str(SHARED / "data/wikipedia"))
    os.environ["TEXTLENS_HOME"] = str(tmp_path_factory.mktemp("textlens-home"))
    os.environ["TEXTLENS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def shared_tokenizers() -> Path:
    if not (SHARED_TOKENIZERS / "manifest.json").is_file():
        pytest.skip(f"tokenizer files not found at {SHARED_TOKENIZERS} (set TEXTLENS_TEST_SHARED)")
    return SHARED_TOKENIZERS


@pytest.fixture(scope="session")
def manifest(shared_tokenizers: Path) -> dict:
    return json.loads((shared_tokenizers / "manifest.json").read_text(encoding="utf-8"))
