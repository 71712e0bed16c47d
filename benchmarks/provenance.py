"""What produced a benchmark figure: the textlens commit, the versions of the packages that decide it, the machine.

Every benchmark writes its JSON through :func:`write_result`, which adds a ``provenance`` block, so a figure that
moves can be traced to a code change, a package release (`make lock` moved a version) or another machine. The
generated page of results (``python benchmarks/pages.py``) shows the block beside each file.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The packages whose versions decide textlens's figures (models, kernels, metrics, clustering, the LLM runtime).
PACKAGES = (
    "textlens", "numpy", "torch", "transformers", "sentence-transformers", "onnxruntime", "faiss-cpu", "tantivy",
    "ranx", "scikit-learn", "umap-learn", "hdbscan", "xllamacpp", "psycopg", "ray",
)  # fmt: skip


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1)


def provenance() -> dict[str, Any]:
    """The commit (and whether the tree had uncommitted changes), package versions and machine, now."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(status) if status is not None else None,
        "packages": {name: _version(name) for name in PACKAGES},
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "memory_gib": _memory_gib(),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
        },
    }


def write_result(path: Path, result: dict[str, Any]) -> None:
    """Write a benchmark's JSON with its provenance, atomically (a run cut short keeps the last complete file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**result, "provenance": provenance()}, indent=1, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)
