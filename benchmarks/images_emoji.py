"""Pictures searched and classified by text: textlens's own image–text model on the emoji set, against baselines.

``../shared/data/images/emoji/`` draws the same 1,911 emoji in two styles (Google Noto, Twemoji). For each
direction, textlens trains an image tower into all-MiniLM-L6-v2's space on one style's pictures and names
(``textlens.train.train_image_text``: a dev split of that style stops it), then on the *other* style:

- text → image: a collection of the 1,911 test pictures (``Collection`` with the trained folder as its encoder;
  the pictures' vectors from their pixels), one dense search per emoji name: recall@1, recall@10 and MRR (a
  picture counts when its name is the query);
- zero-shot classification of the test pictures by category (9) and subcategory, labels embedded through
  prompt templates;

beside, in the same run: random ranking and random labels (the majority class too); BM25 over the file names
only (a collection without captions: what a folder of pictures gives keyword search); and a CNN of the same
shape trained from scratch with cross-entropy on the training style's categories (and subcategories), with the
same augmentation, tested on the other style.

Stage ``lora``: Noto to Twemoji, the text encoder kept as it is and tuned too (LoRA rank 8 on query and value),
both for ``--lora-epochs`` (15: a LoRA epoch embeds every caption again, and costs several times a frozen one):
text to picture and zero-shot categories.

Stage ``tiny-clip``: the path a CLIP or SigLIP folder takes, end to end, timed: a CLIP of random weights in the
Hugging Face layout (``tests.shared.tiny_clip``, 16-dim) indexes the 1,911 Twemoji pictures, answers the names as
queries and labels the categories zero-shot (its figures are chance: the weights are random; the times are the
pipeline's own).

Writes ``benchmarks/results/images_emoji.json`` (a run of some stages keeps the others' figures).

Usage: python benchmarks/images_emoji.py [--stages emoji,lora,tiny-clip] [--epochs 40] [--lora-epochs 15]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from provenance import write_result
from textlens.classify import EmbeddingClassifier
from textlens.collection import Collection
from textlens.corpus import FieldMap
from textlens.embed import get_encoder
from textlens.embed.images import MEAN, STD, build_tower, pixels
from textlens.train import train_image_text
from textlens.train.images import WIDTHS, augment

ROOT = Path(__file__).resolve().parents[1]
EMOJI = ROOT.parent / "shared/data/images/emoji"
STYLES = ("google", "twitter")
TEMPLATES = ("an emoji of {}", "a picture of {}", "{}")


def rows() -> list[dict]:
    return [json.loads(line) for line in (EMOJI / "emoji.jsonl").read_text(encoding="utf-8").splitlines()]


def words(label: str) -> str:
    return label.replace("-", " ").replace("&", "and").lower()


def ranking_figures(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {
        "recall@1": round(sum(r is not None and r <= 1 for r in ranks) / n, 4),
        "recall@10": round(sum(r is not None and r <= 10 for r in ranks) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r is not None and r <= 10) / n, 4),
    }


def search_ranks(col: Collection, items: list[dict], mode: str) -> list[int | None]:
    """Each name's query: the rank (1-10) of the first picture of an emoji with that name, or None."""
    by_name: dict[str, set[str]] = {}
    for row in items:
        by_name.setdefault(row["name"], set()).add(row["id"])
    ranks = []
    for row in items:
        hits = col.search(row["name"], mode=mode, k=10).hits
        ranks.append(next((h.rank for h in hits if h.doc_id in by_name[row["name"]]), None))
    return ranks


def zero_shot(model: str, paths: list[str], labels: list[str]) -> float:
    classes = sorted(set(labels))
    clf = EmbeddingClassifier.zero_shot([words(c) for c in classes], names=classes, encoder=model, templates=TEMPLATES)
    predicted, _ = clf.predict_images(paths)
    return round(float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)])), 4)


def cnn_baseline(train_paths, train_labels, test_paths, test_labels, epochs: int, seed: int = 0) -> dict:
    """The same tower, its last layer a classifier, trained with cross-entropy on the training style's labels."""
    classes = sorted(set(train_labels) | set(test_labels))
    index = {c: n for n, c in enumerate(classes)}
    torch.manual_seed(seed)
    net = build_tower(WIDTHS, len(classes))
    x = torch.from_numpy(pixels(train_paths, 64))
    y = torch.tensor([index[c] for c in train_labels])
    mean, std = torch.from_numpy(MEAN), torch.from_numpy(STD)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    steps = epochs * math.ceil(len(x) / 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 64):
            batch = order[i : i + 64]
            loss = F.cross_entropy(net((augment(x[batch], gen) - mean) / std), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    seconds = time.perf_counter() - start
    net.eval()
    with torch.inference_mode():
        test = (torch.from_numpy(pixels(test_paths, 64)) - mean) / std
        predicted = torch.cat([net(test[i : i + 256]) for i in range(0, len(test), 256)]).argmax(1)
    truth = torch.tensor([index[c] for c in test_labels])
    return {"accuracy": round(float((predicted == truth).float().mean()), 4), "train_seconds": round(seconds, 1)}


def direction(
    train_style: str,
    test_style: str,
    items: list[dict],
    args,
    work: Path,
    lora_rank: int = 0,
    epochs: int | None = None,
    baselines: bool = True,
) -> dict:
    """Train on one style, test on the other; ``lora_rank``: the text encoder tuned too; ``baselines``: run BM25
    on file names, random and the CNN beside (else text -> picture and zero-shot categories only)."""
    print(f"== train on {train_style}, test on {test_style}" + (f", LoRA {lora_rank}" if lora_rank else ""), flush=True)
    model = work / f"model-{train_style}-{lora_rank}"
    captions = EMOJI / "emoji.jsonl"
    start = time.perf_counter()
    report = train_image_text(
        EMOJI / train_style,
        model,
        captions=captions,
        text_field="name",
        epochs=epochs or args.epochs,
        keep_worse=True,
        lora_rank=lora_rank,
        lora_targets=("query", "value"),
        on_event=lambda e: print(e, flush=True) if e["event"] in ("dev", "estimate", "early stop") else None,
    )
    train_s = time.perf_counter() - start
    out = {
        "train": train_style,
        "test": test_style,
        "training": {
            "seconds": round(train_s, 1),
            "epochs_run": report.epochs_run,
            "dev_ndcg@10_before": report.dev_before,
            "dev_ndcg@10_after": report.dev_after,
            "data": {k: v for k, v in report.data.items() if k != "problems"},
            "trainable_parameters": report.trainable_parameters,
        },
    }
    test_dir = EMOJI / test_style
    with Collection.create(f"emoji-{test_style}-{train_style}-{lora_rank}", encoder=str(model)) as col:
        start = time.perf_counter()
        col.add_path(test_dir, captions=captions, fields=FieldMap(text="name"))
        out["index_seconds"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        out["text_to_image"] = ranking_figures(search_ranks(col, items, "dense"))
        out["text_to_image"]["seconds"] = round(time.perf_counter() - start, 1)
    print(out["text_to_image"], flush=True)
    out["lora_rank"] = lora_rank
    if not baselines:
        labels = [r["category"] for r in items]
        out["zero_shot_category"] = {
            "accuracy": zero_shot(str(model), [str(test_dir / r["image"]) for r in items], labels)
        }
        return out
    with Collection.create(f"emoji-{test_style}-names", encoder=None) as col:
        col.add_path(test_dir)  # no captions: the file names' words are all a keyword index has
        out["bm25_file_names"] = ranking_figures(search_ranks(col, items, "keyword"))
    n = len(items)
    harmonic10 = sum(1 / r for r in range(1, 11))
    out["random"] = {"recall@1": round(1 / n, 4), "recall@10": round(10 / n, 4), "mrr@10": round(harmonic10 / n, 4)}
    test_paths = [str(test_dir / r["image"]) for r in items]
    train_paths = [str(EMOJI / train_style / r["image"]) for r in items]
    for level in ("category", "subcategory"):
        labels = [r[level] for r in items]
        counts = Counter(labels)
        start = time.perf_counter()
        out[f"zero_shot_{level}"] = {
            "classes": len(counts),
            "accuracy": zero_shot(str(model), test_paths, labels),
            "random": round(1 / len(counts), 4),
            "majority": round(counts.most_common(1)[0][1] / n, 4),
            "seconds": round(time.perf_counter() - start, 1),
        }
        out[f"cnn_{level}"] = cnn_baseline(train_paths, labels, test_paths, labels, args.baseline_epochs)
        print(level, out[f"zero_shot_{level}"], out[f"cnn_{level}"], flush=True)
    return out


def tiny_clip_path(items: list[dict], work: Path) -> dict:
    """Index, search and label the Twemoji pictures with a CLIP of random weights in the Hugging Face layout."""
    sys.path.insert(0, str(ROOT))
    from tests.shared import tiny_clip

    model = tiny_clip(work / "tiny-clip")
    out: dict = {"model": "tests.shared.tiny_clip (CLIPModel, random weights, 16-dim)", "pictures": len(items)}
    with Collection.create("emoji-tiny-clip", encoder=str(model)) as col:
        start = time.perf_counter()
        report = col.add_path(EMOJI / "twitter", captions=EMOJI / "emoji.jsonl", fields=FieldMap(text="name"))
        out["index_seconds"] = round(time.perf_counter() - start, 1)
        out["indexed"] = report.added
        start = time.perf_counter()
        ranks = search_ranks(col, items, "dense")
        out["search_seconds"] = round(time.perf_counter() - start, 1)
        out["queries_per_s"] = round(len(items) / out["search_seconds"], 1)
        out["text_to_image"] = ranking_figures(ranks)
        start = time.perf_counter()
        col.search("", image=EMOJI / "google" / items[0]["image"], k=10)
        out["image_query_ms"] = round(1000 * (time.perf_counter() - start), 1)
    start = time.perf_counter()
    labels = [r["category"] for r in items]
    out["zero_shot_category"] = zero_shot(str(model), [str(EMOJI / "twitter" / r["image"]) for r in items], labels)
    out["zero_shot_seconds"] = round(time.perf_counter() - start, 1)
    print(out, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", default="emoji,lora,tiny-clip", help="emoji (both ways), lora, tiny-clip")
    parser.add_argument("--epochs", type=int, default=40, help="most epochs of the image tower (early stopping)")
    parser.add_argument("--baseline-epochs", type=int, default=25, help="epochs of the cross-entropy CNN")
    parser.add_argument("--lora-epochs", type=int, default=15, help="epochs of the lora stage's two runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/images_emoji.json")
    args = parser.parse_args()
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    items = rows()
    result = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    result.pop("provenance", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TEXTLENS_HOME"] = tmp  # collections here; the embedding cache too (nothing reused)
        work = Path(tmp)
        if "emoji" in stages:
            result["runs"] = [direction(a, b, items, args, work) for a, b in (STYLES, STYLES[::-1])]
            result |= {"epochs": args.epochs, "baseline_epochs": args.baseline_epochs}
        if "lora" in stages:
            result["lora"] = [
                direction(*STYLES, items, args, work, lora_rank=rank, epochs=args.lora_epochs, baselines=False)
                for rank in (0, 8)
            ]
        if "tiny-clip" in stages:
            result["tiny_clip"] = tiny_clip_path(items, work)
    result |= {
        "benchmark": "images_emoji",
        "emoji": len(items),
        "text_encoder": get_encoder("all-MiniLM-L6-v2").name,
        "templates": list(TEMPLATES),
        "threads": torch.get_num_threads(),
    }
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
