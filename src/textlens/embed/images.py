"""Image–text encoders: pictures and texts in one vector space (CLIP-style).

Two kinds read images: a CLIP or SigLIP model run by sentence-transformers
(:class:`~textlens.embed.sentence_transformers.SentenceTransformerEncoder`, when the model has an image tower), and
textlens's own model (:class:`ImageTowerEncoder`): a small convolutional image tower trained (``textlens train
image-text``) to map pictures into the space of a text encoder that stays as it is, so its text side is that text
encoder's (all-MiniLM-L6-v2 by default) and a collection's text and image vectors can be compared.

Both give :meth:`encode_images` beside the text encoder's ``encode`` / ``encode_queries``; :func:`reads_images`
tells them from text-only encoders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textlens.embed.base import Progress
from textlens.errors import AssetError, InputError

CONFIG = "textlens_image.json"
WEIGHTS = "image_tower.safetensors"
TEXT = "text"  # a tuned text encoder's folder inside the model's (its config names it so)
FORMAT = "textlens-image-text"


def reads_images(encoder: Any) -> bool:
    """Whether ``encoder`` embeds pictures as well as texts."""
    return bool(getattr(encoder, "reads_images", False))


def check_reads_images(encoder: Any) -> None:
    if not reads_images(encoder):
        raise InputError(
            f"{getattr(encoder, 'name', encoder)!r} embeds text only; pictures need an image-text model",
            hint="Use a CLIP or SigLIP model folder (or Hub id), or one trained by: textlens train image-text",
            api_hint="Use a CLIP or SigLIP model, or one trained by textlens.train.train_image_text.",
        )


def rgb_images(items: Sequence[Any]) -> list[Any]:
    """PIL RGB images from paths, :class:`~textlens.corpus.images.Picture` s or PIL images."""
    from textlens.corpus.images import Picture, open_image

    out = []
    for item in items:
        if isinstance(item, str | Path | bytes):
            item = open_image(item)
        out.append(item.image if isinstance(item, Picture) else item.convert("RGB"))
    return out


def image_key(path: str | Path) -> bytes:
    """The embedding cache's key of a picture: the sha256 of its file's bytes (a moved file stays cached)."""
    return hashlib.sha256(b"image\0" + Path(path).read_bytes()).digest()


def embed_pictures(encoder: Any, paths: Sequence[str | Path], cache, progress: Progress | None = None) -> np.ndarray:
    """Pictures' vectors through the embedding cache (``None``: none), keyed by their files' bytes."""
    from textlens.embed.cache import embed_with_cache

    keys = [image_key(p) for p in paths]
    return embed_with_cache(encoder, list(paths), cache, progress=progress, keys=keys, encode=encoder.encode_images)


def is_image_tower_folder(path: Path) -> bool:
    return (path / CONFIG).is_file()


def build_tower(widths: Sequence[int], dim: int):
    """The image tower: one 3x3 convolution, batch norm, ReLU and 2x2 max-pool a stage, then global average
    pooling and a linear map to the text encoder's dimension."""
    from torch import nn

    layers: list[Any] = []
    channels = 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        layers.append(nn.MaxPool2d(2))
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(channels, dim)]
    return nn.Sequential(*layers)


def pixels(images: Sequence[Any], size: int) -> np.ndarray:
    """``(n, 3, size, size)`` float32 in [0, 1]: each picture's shorter side resized to ``size``, centre cut."""
    from PIL import Image

    out = np.empty((len(images), 3, size, size), dtype=np.float32)
    for n, img in enumerate(rgb_images(images)):
        scale = size / min(img.size)
        w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
        img = img.resize((w, h), Image.Resampling.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
        out[n] = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return out


MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)[:, None, None]
STD = np.array([0.25, 0.25, 0.25], dtype=np.float32)[:, None, None]


class ImageTowerEncoder:
    """textlens's own image–text model: an image tower (``image_tower.safetensors``) into the space of the text
    encoder named in ``textlens_image.json`` (or tuned with it and kept in ``text/``); texts are that encoder's
    vectors.

    Args:
        folder: a folder written by ``textlens train image-text``.
    """

    reads_images = True

    def __init__(self, folder: str | Path) -> None:
        import torch
        from safetensors.torch import load_file

        from textlens.embed import get_encoder

        self.folder = Path(folder).expanduser().resolve()
        try:
            self.config = json.loads((self.folder / CONFIG).read_text(encoding="utf-8"))
            state = load_file(str(self.folder / WEIGHTS))
        except (OSError, ValueError) as exc:
            raise AssetError(
                f"{self.folder} is not a readable textlens image-text model ({exc})",
                hint="Train one with: textlens train image-text PAIRS OUTPUT",
            ) from exc
        if self.config.get("format") != FORMAT:
            raise AssetError(f"{self.folder / CONFIG}: format is not {FORMAT!r}", hint="Train the model again.")
        text = self.config["text_encoder"]
        self.text = get_encoder(str(self.folder / TEXT) if text == TEXT else text)
        self.name, self.dim, self.max_length = str(self.folder), self.text.dim, self.text.max_length
        if self.config["dim"] != self.dim:
            raise AssetError(
                f"{self.folder}: its image tower makes {self.config['dim']}-dim vectors, its text encoder "
                f"{self.text.name} {self.dim}-dim ones",
                hint="Train the model again with this text encoder.",
            )
        self.size = int(self.config["image_size"])
        self.tower = build_tower(self.config["widths"], self.dim)
        self.tower.load_state_dict(state)
        self.tower.eval()
        self._torch = torch
        digest = hashlib.sha256((self.folder / WEIGHTS).read_bytes())
        digest.update(self.text.fingerprint.encode())
        self.fingerprint = digest.hexdigest()[:16]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        return self.text.encode(texts, batch_size=batch_size, progress=progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.text.encode_queries(texts)

    def encode_images(
        self, images: Sequence[Any], *, batch_size: int = 128, progress: Progress | None = None
    ) -> np.ndarray:
        out = np.empty((len(images), self.dim), dtype=np.float32)
        torch = self._torch
        for start in range(0, len(images), batch_size):
            batch = (pixels(images[start : start + batch_size], self.size) - MEAN) / STD
            with torch.inference_mode():
                vecs = torch.nn.functional.normalize(self.tower(torch.from_numpy(batch)), dim=-1)
            out[start : start + len(batch)] = vecs.numpy()
            if progress:
                progress("embedding images", start + len(batch), len(images))
        return out
