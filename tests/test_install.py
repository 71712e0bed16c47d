"""The locks that `make demo`, `make test` and `make bench` install from: wheels only, current with pyproject.toml.

Reads the committed files only (no network): a lock that names an sdist, a wheel for another platform, or a version
that pyproject.toml's ranges no longer admit fails here, before a fresh machine would compile or drift.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = {p.name.split(".")[1]: p for p in sorted((ROOT / "requirements").glob("pylock.*.toml"))}
# What each lock was resolved for (the Makefile's `lock` target).
EXTRAS = {"demo": ["demo"], "test": ["all", "test"], "bench": ["all", "bench"]}
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in range(28, 4, -1)]
PLATFORMS += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
SUPPORTED: set[Tag] = {
    *cpython_tags((3, 11), platforms=PLATFORMS),
    *compatible_tags((3, 11), "cp311", platforms=PLATFORMS),
}


def _packages(name: str) -> dict[str, dict]:
    lock = tomllib.loads(LOCKS[name].read_text(encoding="utf-8"))
    assert lock["lock-version"] == "1.0"
    return {canonicalize_name(p["name"]): p for p in lock["packages"]}


def _requirements(extras: list[str], seen: set[str] | None = None) -> list[Requirement]:
    """pyproject.toml's requirements for these extras, self-references (``textlens[search,llm]``) expanded."""
    seen = set() if seen is None else seen
    out = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]] if not seen else []
    for extra in extras:
        if extra in seen:
            continue
        seen.add(extra)
        for raw in PYPROJECT["project"]["optional-dependencies"][extra]:
            req = Requirement(raw)
            if req.name == "textlens":
                out += _requirements(sorted(req.extras), seen)
            else:
                out.append(req)
    return out


def test_the_three_locks_are_there():
    assert set(LOCKS) == set(EXTRAS)


@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_a_lock_installs_wheels_for_this_platform_only(name: str):
    """Nothing is built from source on install: every package is a wheel that Python 3.11 on Linux x86_64 takes,
    pinned by sha256."""
    for pkg, entry in _packages(name).items():
        assert "sdist" not in entry and "directory" not in entry and "vcs" not in entry, f"{pkg} is not a wheel"
        assert entry.get("wheels"), f"{pkg} has no wheel in {LOCKS[name].name}"
        for wheel in entry["wheels"]:
            assert len(wheel["hashes"]["sha256"]) == 64, f"{pkg}: {wheel} has no sha256"
            _, version, _, tags = parse_wheel_filename(wheel["url"].rsplit("/", 1)[-1])
            assert str(version) == entry["version"], f"{pkg}: {wheel['url']} is not version {entry['version']}"
            assert tags & SUPPORTED, f"{pkg}: {wheel['url']} does not install on CPython 3.11, Linux x86_64"


@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_a_lock_satisfies_pyproject(name: str):
    """A lock made before pyproject.toml changed fails here: run `make lock`."""
    packages = _packages(name)
    for req in _requirements(EXTRAS[name]):
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11", "sys_platform": "linux"}):
            continue
        pkg = canonicalize_name(req.name)
        assert pkg in packages, f"{req} (pyproject.toml) is not in {LOCKS[name].name}: run make lock"
        version = packages[pkg]["version"]
        assert req.specifier.contains(version, prereleases=True), f"{pkg} {version} is outside {req}: run make lock"


def test_a_package_has_one_version_in_every_lock():
    versions: dict[str, set[str]] = {}
    for name in EXTRAS:
        for pkg, entry in _packages(name).items():
            versions.setdefault(pkg, set()).add(entry["version"])
    assert {pkg: v for pkg, v in versions.items() if len(v) > 1} == {}


def test_the_demo_installs_what_it_runs_and_nothing_else():
    """No test tools, benchmark peers or servers in `make demo`; no sdist-only package anywhere (llama-cpp-python
    came in through a test model's package and compiled for 12 minutes)."""
    demo = set(_packages("demo"))
    assert {"torch", "sentence-transformers", "faiss-cpu", "xllamacpp", "tantivy"} <= demo
    for tool in ("pytest", "ruff", "playwright", "schemathesis", "keybert", "bertopic", "bm25s", "ray", "fastapi"):
        assert tool not in demo, f"{tool} is in the demo's lock"
    for name in EXTRAS:
        assert "llama-cpp-python" not in _packages(name)
