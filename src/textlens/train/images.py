"""Train an image tower into a text encoder's space (locked-text tuning, as in LiT): contrastive, on pairs of a
picture and its caption.

By default the text encoder stays as it is (all-MiniLM-L6-v2), so every caption is embedded once; the image tower
(:func:`textlens.embed.images.build_tower`) learns to put a picture next to its own caption and away from every
other training caption: InfoNCE over all of them at each step, with a learned temperature. With ``lora_rank`` the
text encoder is tuned too, through LoRA adapters (at a quarter of the tower's learning rate): a step embeds its
batch's captions afresh and they are the candidates (in-batch negatives: a bank of captions embedded earlier would
differ from fresh ones in a way the tower learns to spot, which a first version here did), and the tuned text
encoder is saved (merged) in the model folder's ``text/``. Pictures are augmented
(affine moves, colour, grey, blur) so the tower learns what is drawn rather than how. The shared loop
(:func:`textlens.train.core.fit`) holds a dev split out, stops early and writes the folder only if the dev
text → image nDCG@10 (one relevant picture a caption) improved on the untrained tower.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from textlens.embed.images import CONFIG, FORMAT, MEAN, STD, TEXT, WEIGHTS, build_tower, pixels
from textlens.errors import InputError
from textlens.train.core import TrainConfig

IMAGE_SIZE = 64
WIDTHS = (32, 64, 128, 256)


@dataclass
class Pairs:
    """Pictures (paths) and their captions, one each."""

    images: list[str]
    texts: list[str]

    def __post_init__(self) -> None:
        if len(self.images) != len(self.texts):
            raise InputError(
                f"{len(self.images)} pictures but {len(self.texts)} captions", hint="Pair them one to one."
            )


class _Model(nn.Module):
    def __init__(self, tower: nn.Module, text: nn.Module | None = None) -> None:
        super().__init__()
        self.tower = tower
        self.text = text  # the text encoder being tuned (LoRA), or None when it stays as it is
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random rotation (±15°), scale (0.8-1.15) and shift (±10%) on a white ground, brightness, contrast and
    saturation (±25%), grey (one in five) and blur (three in ten); ``x`` in [0, 1]."""
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=gen)

    angle, scale = uniform(-0.26, 0.26), uniform(0.8, 1.15)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, uniform(-0.1, 0.1)], 1), torch.stack([sin, cos, uniform(-0.1, 0.1)], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x - 1, grid, align_corners=False) + 1  # what moves in from outside is white
    x = x * uniform(0.75, 1.25)[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * uniform(0.75, 1.25)[:, None, None, None] + mean
    grey = x.mean(dim=1, keepdim=True)
    saturation = uniform(0.75, 1.25) * (torch.rand(n, generator=gen) > 0.2)
    x = grey + (x - grey) * saturation[:, None, None, None]
    blur = torch.rand(n, generator=gen) < 0.3
    if blur.any():
        kernel = torch.tensor([1.0, 2.0, 1.0])
        kernel = (kernel[:, None] * kernel[None, :] / 16).expand(3, 1, 3, 3)
        x[blur] = F.conv2d(F.pad(x[blur], (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    return x.clamp(0, 1)


class ImageTextTask:
    """The :class:`~textlens.train.core.Task` of an image tower trained against a frozen text encoder."""

    kind = "image-text"

    def __init__(
        self,
        pairs: Pairs,
        config: TrainConfig,
        *,
        text_encoder: str,
        image_size: int = IMAGE_SIZE,
        widths: tuple[int, ...] = WIDTHS,
        augmentation: bool = True,
        progress=None,
    ) -> None:
        from textlens.embed import get_encoder
        from textlens.embed.cache import EmbeddingCache, embed_with_cache

        self.text = get_encoder(text_encoder)
        self.base, self.config, self.size, self.widths = self.text.name, config, image_size, tuple(widths)
        self.augmentation = augmentation
        unique = list(dict.fromkeys(pairs.texts))
        self.captions = unique
        cache = EmbeddingCache()
        self.text_vectors = torch.from_numpy(embed_with_cache(self.text, unique, cache, progress=progress))
        cache.close()
        self.tuned, self.peft = self._tunable_text(text_encoder, config) if config.lora_rank else (None, None)
        row = {t: n for n, t in enumerate(unique)}
        self.targets = torch.tensor([row[t] for t in pairs.texts])
        if progress:
            progress("reading pictures", 0, len(pairs.images))
        self.pixels = torch.from_numpy(pixels(pairs.images, image_size))
        order = list(range(len(pairs.images)))
        random.Random(config.seed).shuffle(order)
        n_dev = round(len(order) * config.dev_fraction)
        if len(order) - n_dev < 2 or n_dev < 1:
            raise InputError(
                f"{len(order)} pairs are too few to hold {config.dev_fraction:.0%} out for dev and train on the rest",
                hint="Give more pictures with captions, or change --dev-fraction.",
            )
        self.dev, self.train = sorted(order[:n_dev]), sorted(order[n_dev:])
        # the softmax runs over the training captions only: dev captions stay unseen
        self.train_texts = sorted({int(self.targets[i]) for i in self.train})
        self.train_row = {t: n for n, t in enumerate(self.train_texts)}
        self.module = _Model(build_tower(self.widths, self.text.dim), self.tuned)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.items_per_step, self.dev_items = config.batch_size, len(self.dev)
        self.data = {"pairs": len(order), "train": len(self.train), "dev": n_dev, "captions": len(unique)}

    @staticmethod
    def _tunable_text(text_encoder: str, config: TrainConfig):
        """The text encoder as a sentence-transformers model with LoRA adapters, and the peft wrapper (to merge)."""
        from sentence_transformers import SentenceTransformer

        from textlens.train.models import _quiet, add_lora, model_folder

        folder = model_folder(text_encoder, "text encoder to tune")
        with _quiet():
            model = SentenceTransformer(str(folder), device="cpu")
        model.max_seq_length = min(config.max_length, model.max_seq_length)
        return model, add_lora(model[0].auto_model, config, [])

    def param_groups(self) -> list[dict[str, Any]]:
        text = [p for p in self.tuned.parameters() if p.requires_grad] if self.tuned is not None else []
        ids = {id(p) for p in text}
        rest = [p for p in self.module.parameters() if p.requires_grad and id(p) not in ids]
        groups = [{"params": rest}]
        if text:
            groups.append({"params": text, "lr": self.config.learning_rate / 4})
        return groups

    def _embed_captions(self, rows: list[int]) -> torch.Tensor:
        """The captions' vectors from the text encoder being tuned (with gradients when training)."""
        model = self.tuned
        features = model.preprocess([self.captions[r] for r in rows])
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    def _caption_vectors(self, rows: list[int]) -> torch.Tensor:
        """Vectors of these captions as the text side now makes them (no gradients)."""
        if self.tuned is None:
            return self.text_vectors[rows]
        self.tuned.eval()
        with torch.inference_mode():
            return torch.cat([self._embed_captions(rows[i : i + 128]) for i in range(0, len(rows), 128)])

    def batches(self, epoch: int) -> list[list[int]]:
        order = list(self.train)
        random.Random(self.config.seed * 1000 + epoch).shuffle(order)
        size = self.config.batch_size
        return [order[i : i + size] for i in range(0, len(order), size) if len(order[i : i + size]) >= 2]

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = torch.from_numpy(MEAN), torch.from_numpy(STD)
        return F.normalize(self.module.tower((x - mean) / std), dim=-1)

    def loss(self, batch: list[int]) -> torch.Tensor:
        x = self.pixels[batch]
        if self.augmentation:
            x = augment(x, self.gen)
        z = self._images(x)
        target = torch.tensor([self.train_row[int(self.targets[i])] for i in batch])
        if self.tuned is None:
            texts = self.text_vectors[self.train_texts]
        else:  # the batch's own captions, embedded afresh (gradients reach the adapters), are the candidates
            self.tuned.train()
            rows = sorted({int(self.targets[i]) for i in batch})
            texts = self._embed_captions(rows)
            place = {r: n for n, r in enumerate(rows)}
            target = torch.tensor([place[int(self.targets[i])] for i in batch])
        logits = self.module.logit_scale.clamp(max=math.log(100)).exp() * z @ texts.T
        return F.cross_entropy(logits, target)

    def embed_images(self, index: list[int]) -> torch.Tensor:
        self.module.eval()
        with torch.inference_mode():
            return torch.cat([self._images(self.pixels[index[i : i + 256]]) for i in range(0, len(index), 256)])

    def dev_ndcg(self) -> float | None:
        """Text → image over the dev pictures: each dev caption's nDCG@10, a picture with that caption relevant."""
        images = self.embed_images(self.dev)
        captions = sorted({int(self.targets[i]) for i in self.dev})
        scores = self._caption_vectors(captions) @ images.T
        top = scores.topk(min(10, len(self.dev)), dim=1).indices
        dev_targets = self.targets[self.dev]
        total = 0.0
        for q, caption in enumerate(captions):
            relevant = (dev_targets == caption).nonzero().flatten().tolist()
            gains = [1 / math.log2(r + 2) for r, i in enumerate(top[q].tolist()) if i in relevant]
            ideal = sum(1 / math.log2(r + 2) for r in range(min(10, len(relevant))))
            total += sum(gains) / ideal
        return total / len(captions)

    def baseline(self) -> float | None:
        return self.dev_ndcg()

    def save(self, folder: Path) -> int | None:
        from safetensors.torch import save_file

        from textlens.atomic import write_json

        state = {k: v.contiguous() for k, v in self.module.tower.state_dict().items()}
        save_file(state, str(folder / WEIGHTS))
        adapter, text = None, self.text.name
        if self.peft is not None:  # the tuned text encoder, adapters merged in (and kept under text/lora)
            from textlens.train.models import merged

            adapter = merged(self.peft, folder / TEXT)[1]
            self.tuned.save(str(folder / TEXT))
            text = TEXT
        write_json(
            folder / CONFIG,
            {
                "format": FORMAT,
                "version": 1,
                "text_encoder": text,
                "dim": self.text.dim,
                "image_size": self.size,
                "widths": list(self.widths),
                "temperature": round(float(1 / self.module.logit_scale.detach().exp()), 5),
            },
        )
        return adapter


def pairs_from_documents(docs) -> Pairs:
    """The (picture, caption) pairs of image documents (:func:`textlens.corpus.images.image_documents`)."""
    images, texts = [], []
    for doc in docs:
        images.append(doc.metadata["image"])
        texts.append(doc.text)
    return Pairs(images, texts)
