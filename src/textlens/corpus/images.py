"""Pictures as documents: reading an image safely, a thumbnail, and a folder of images (with captions).

An image document's text is its caption (from a captions JSONL joined by file name) or, without one, the words
of its file name; its title is the file name; its metadata keeps where the picture is (``image``: the absolute
path, ``path``: inside the folder), its size and a small JPEG thumbnail as a ``data:`` URI. A collection whose
encoder reads images embeds the picture; its keyword index reads the text.

A file that cannot be used (empty, truncated, not an image, too large to decode safely, a format other than
PNG, JPEG, WebP and GIF) is named in the read report and left out; the rest of the folder is read.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.corpus.document import Document
from textlens.errors import InputError, MissingDependency
from textlens.jsonl import json_lines

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "MPO"}  # MPO: a JPEG with extra frames (phone cameras)
MAX_PIXELS = 50_000_000  # width × height; above it a file is refused before it is decoded
THUMBNAIL_SIDE = 96
CAPTION_KEYS = ("file_name", "image", "file", "path")  # the field of a captions row that names its image


class ImageError(InputError):
    """An image file that cannot be read: the message names the file and why."""


@dataclass
class Picture:
    """An opened image: RGB pixels (transparency laid on white, EXIF orientation applied) and what was noticed."""

    image: Any  # PIL.Image.Image, mode RGB
    format: str
    width: int
    height: int
    frames: int = 1
    notes: list[str] = field(default_factory=list)


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise MissingDependency("reading images needs Pillow", hint="pip install 'textlens[images]'") from exc
    return Image, ImageOps


def open_image(source: str | Path | bytes, *, name: str | None = None, max_pixels: int = MAX_PIXELS) -> Picture:
    """Open an image file (or its bytes) and check it: raises :class:`ImageError` naming ``name`` (or the path).

    The size is read from the header before any pixel is decoded, so a decompression bomb (a small file that
    decodes to billions of pixels) is refused without using the memory. An animated image gives its first
    frame (noted)."""
    Image, ImageOps = _pil()
    where = name or (str(source) if not isinstance(source, bytes) else "the image")
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise ImageError(f"{where}: cannot be read ({exc.strerror or exc})", hint="Check the path.") from exc
    if not data:
        raise ImageError(f"{where}: empty file (0 bytes)", hint="Remove it, or copy the image again.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = _checked(img, data, where, max_pixels)
            frames = int(getattr(img, "n_frames", 1) or 1)
            fmt = img.format or "?"
            img.load()
            img = ImageOps.exif_transpose(img) or img
            rgb = _on_white(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at twice its limit, fires in open()
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "the image"
        raise ImageError(
            f"{where}: {size} is over the limit of {max_pixels:,} (a guard against decompression bombs)",
            hint="Resize the image; a search thumbnail needs far fewer pixels.",
        ) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError(
            f"{where}: not an image: {not_an_image_hint(data)}",
            hint="Remove it from the folder, or save it again as PNG or JPEG.",
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(
            f"{where}: truncated or damaged image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            hint="Open it in an image viewer; copy or export it again.",
        ) from exc
    notes = [f"animated ({frames} frames): the first frame is used"] if frames > 1 else []
    return Picture(rgb, fmt, rgb.width, rgb.height, frames, notes)


def _checked(img, data: bytes, where: str, max_pixels: int):
    if img.format not in FORMATS:
        raise ImageError(
            f"{where}: {img.format} images are not read (PNG, JPEG, WebP and GIF are)",
            hint="Convert it to PNG or JPEG.",
        )
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(
            f"{where}: {width:,} x {height:,} pixels is over the limit of {max_pixels:,} "
            "(a guard against decompression bombs)",
            hint="Resize the image; a search thumbnail needs far fewer pixels.",
        )
    return img


def _on_white(img):
    """RGB, with any transparency laid over white (emoji and logos are drawn on transparent ground)."""
    Image, _ = _pil()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(ground, rgba).convert("RGB")
    return img.convert("RGB")


def not_an_image_hint(data: bytes) -> str:
    head = data[:64]
    if head.strip() and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return f"it holds text ({head[:24].decode('ascii', 'replace')!r}...), not an image"
    return f"its first bytes ({head[:8].hex(' ')}) are not a PNG, JPEG, WebP or GIF header"


def thumbnail_uri(picture: Picture, side: int = THUMBNAIL_SIDE) -> str:
    """A JPEG thumbnail no larger than ``side`` pixels a side, as a ``data:`` URI (a few kB)."""
    thumb = picture.image.copy()
    thumb.thumbnail((side, side))
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def name_words(file_name: str) -> str:
    """The words of a file name: ``red_apple-2.png`` -> ``red apple 2``."""
    return " ".join(w for w in re.split(r"[\W_]+", Path(file_name).stem) if w)


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder and its sub-folders (hidden ones left out), sorted; a file: itself."""
    if folder.is_file():
        return [folder]
    return sorted(
        f
        for f in folder.rglob("*")
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")
    )


def read_captions(path: Path, text_field: str, note) -> dict[str, dict[str, Any]]:
    """Rows of a captions JSONL by the file name they name (``file_name``, ``image``, ``file`` or ``path``)."""
    rows: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as UTF-8 JSONL ({exc})", hint="Pass a JSONL file.") from exc
    for n, row in json_lines(lines, path, "Each line of a captions file is one JSON object."):
        key = next((k for k in CAPTION_KEYS if isinstance(row, dict) and isinstance(row.get(k), str)), None)
        if key is None:
            raise InputError(
                f"{path}, line {n}: no field naming the image ({', '.join(CAPTION_KEYS)})",
                hint='Give each row the image\'s file name, e.g. {"file_name": "cat.png", "text": "a cat"}.',
            )
        if text_field in row and not isinstance(row[text_field], str):
            note(f"{path.name}:{n}", f"field {text_field!r} is not a string; the file name is the text")
        rows[Path(row.pop(key)).as_posix()] = row
    return rows


def image_documents(
    folder: Path, *, report, captions: Path | None = None, text_field: str = "text"
) -> Iterator[Document]:
    """Documents for the images of ``folder``, joined with a captions JSONL (default: the folder's
    ``metadata.jsonl``, Hugging Face's ImageFolder layout) by file name (or path inside the folder).

    ``report`` (a :class:`~textlens.corpus.readers.ReadReport`) counts what was read and names each file left out
    and each captions row whose image is missing."""
    root = folder if folder.is_dir() else folder.parent
    if captions is None and (root / "metadata.jsonl").is_file():
        captions = root / "metadata.jsonl"
    rows = read_captions(captions, text_field, report.note) if captions else {}
    files = image_files(folder)
    if not files:
        raise InputError(
            f"{folder}: no images ({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES)}) found",
            hint="Pass a folder of pictures, or another --format for text.",
        )
    used: set[str] = set()
    for file in files:
        rel = file.relative_to(root).as_posix()
        row = rows.get(rel) or rows.get(file.name)
        if row is not None:
            used.add(rel if rel in rows else file.name)
        try:
            picture = open_image(file, name=rel)
        except ImageError as exc:
            report.note(rel, exc.message.removeprefix(f"{rel}: ") + " (left out)")
            continue
        report.problems.extend(f"{rel}: {why}" for why in picture.notes[: max(0, 20 - len(report.problems))])
        row = dict(row or {})
        caption = row.pop(text_field, None)
        text = caption if isinstance(caption, str) and caption.strip() else name_words(file.name) or file.name
        title = row.pop("title", None)
        meta = {
            **{k: v for k, v in row.items() if k not in ("id",)},
            "image": str(file.resolve()),
            "path": rel,
            "width": picture.width,
            "height": picture.height,
            "bytes": file.stat().st_size,
            "format": picture.format.lower(),
            "thumbnail": thumbnail_uri(picture),
        }
        if picture.frames > 1:
            meta["frames"] = picture.frames
        report.read += 1
        yield Document(str(row.get("id", rel)), text, title if isinstance(title, str) else file.name, meta)
    unused = sorted(set(rows) - used)
    if unused and captions is not None:
        many = f"{len(unused):,} rows name pictures" if len(unused) > 1 else "1 row names a picture"
        report.problems.append(f"{captions.name}: {many} not in {folder} ({', '.join(unused[:3])}...), not used")
