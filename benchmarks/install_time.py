"""Cold installs from the lock, side by side: uv (what `make` uses) and pip, each twice in a new virtual environment
with an empty package cache; the installed sets must be identical (`pip freeze`).

Usage: python benchmarks/install_time.py [--lock test] [--runs 2]   Writes ``benchmarks/results/install_time.json``.
pip reads the same pins and sha256 from the lock (a requirements file made from it). On this machine pip's
configuration adds a local mirror and /opt/wheels (torch); uv fetches from PyPI, torch from /opt/wheels by its URL.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from provenance import write_result

ROOT = Path(__file__).resolve().parents[1]


def requirements(lock: Path, out: Path) -> None:
    """The lock's pins as a pip requirements file with the same sha256 (a direct URL for a local wheel)."""
    lines = []
    for pkg in tomllib.loads(lock.read_text(encoding="utf-8"))["packages"]:
        wheel = pkg["wheels"][0]
        local = wheel["url"].startswith("file:")
        pin = f"{pkg['name']} @ {wheel['url']}" if local else f"{pkg['name']}=={pkg['version']}"
        lines.append(f"{pin} --hash=sha256:{wheel['hashes']['sha256']}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(cmd: list[str], **kw) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])}... failed:\n{done.stderr[-3000:]}")


def install(tool: str, lock: Path, reqs: Path, tmp: Path) -> tuple[float, frozenset[str]]:
    venv, cache = tmp / f"venv-{tool}", tmp / f"cache-{tool}"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin/python")
    start = time.perf_counter()
    if tool == "uv":
        uv = Path(sys.executable).with_name("uv")
        env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_SYSTEM_CERTS": "1", "UV_PREVIEW_FEATURES": "pylock"}
        run([str(uv), "pip", "install", "--python", python, "--no-deps", "-r", str(lock)], env=env)
    else:
        run([python, "-m", "pip", "install", "-q", "--no-cache-dir", "--require-hashes", "--no-deps", "-r", str(reqs)])
    seconds = time.perf_counter() - start
    freeze = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True).stdout
    kept = sorted(line for line in freeze.splitlines() if not line.startswith(("pip==", "setuptools==")))
    return seconds, frozenset(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", default="test", help="demo, test or bench")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    lock = ROOT / f"requirements/pylock.{args.lock}.toml"
    rows, freezes = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        requirements(lock, reqs)
        for run_no in range(args.runs):
            for tool in ("uv", "pip"):
                with tempfile.TemporaryDirectory(dir=tmp) as one:
                    seconds, freeze = install(tool, lock, reqs, Path(one))
                freezes.setdefault(tool, set()).add(freeze)
                rows.append({"installer": tool, "run": run_no + 1, "seconds": round(seconds, 1),
                             "packages": len(freeze)})  # fmt: skip
                print(rows[-1], flush=True)
    result = {
        "lock": lock.name,
        "packages_in_lock": len(tomllib.loads(lock.read_text(encoding="utf-8"))["packages"]),
        "identical_freeze_across_runs": {tool: len(f) == 1 for tool, f in freezes.items()},
        "uv_and_pip_differ_in": sorted(next(iter(freezes["uv"])) ^ next(iter(freezes["pip"])))
        if all(len(f) == 1 for f in freezes.values())
        else "the runs of one installer differ",
        "rows": rows,
    }
    write_result(ROOT / "benchmarks/results/install_time.json", result)
    print(result)


if __name__ == "__main__":
    main()
