"""The one way tests find ``../shared`` (data and tokenizer files that are never copied into the repo).

``TEXTLENS_TEST_SHARED`` overrides the place. A test whose file is missing skips with the path it
looked for; under CI (``CI`` set) the conftest turns every skip into a failure, so nothing is
skipped silently there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLENS_TEST_SHARED", ROOT.parent / "shared"))


def shared(relpath: str) -> Path:
    """``SHARED / relpath``, or skip the test saying where it looked."""
    path = SHARED / relpath
    if not path.exists():
        pytest.skip(f"{path} not found (the shared data beside the repository; set TEXTLENS_TEST_SHARED)")
    return path


def scifact_slice(out: Path, queries: int = 20, others: int = 60) -> Path:
    """A BEIR folder at ``out`` of the first ``queries`` SciFact training queries, their judged documents and
    ``others`` more (texts cut at 600 characters): training runs in seconds on it."""
    source = shared("data/beir/scifact")
    out.mkdir(parents=True, exist_ok=True)
    lines = (source / "qrels/train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    qrels = [line.split("\t") for line in lines]
    qids = list(dict.fromkeys(q for q, _, _ in qrels))[:queries]
    judged = {d for q, d, _ in qrels if q in qids}
    docs, added = [], 0
    with (source / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            if doc["_id"] in judged or added < others:
                added += doc["_id"] not in judged
                doc["text"] = doc["text"][:600]
                docs.append(doc)
    (out / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    rows = [json.loads(x) for x in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    keep = [q for q in rows if q["_id"] in qids]
    (out / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in keep), encoding="utf-8")
    (out / "qrels").mkdir(exist_ok=True)
    judged_rows = ["query-id\tcorpus-id\tscore"] + ["\t".join(r) for r in qrels if r[0] in qids]
    (out / "qrels/train.tsv").write_text("\n".join(judged_rows) + "\n", encoding="utf-8")
    return out


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (the alphabet of a byte-level BPE such as CLIP's)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    moved = [b for b in range(256) if b not in kept]
    return [chr(b) for b in kept] + [chr(256 + n) for n in range(len(moved))]


def tiny_clip(out: Path, *, sentence_transformers_layout: bool = False) -> Path:
    """A CLIP model of random weights at ``out`` as Hugging Face writes one (config, weights, tokenizer, image
    processor), 16-dim vectors: what a Hub CLIP folder is, small. ``sentence_transformers_layout`` adds the
    ``modules.json`` of sentence-transformers' ``clip-ViT-B-32``."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab = {s: n for n, s in enumerate(_byte_symbols())}
    vocab |= {s + "</w>": len(vocab) + n for n, s in enumerate(_byte_symbols())}
    vocab |= {"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={
            **small,
            "vocab_size": len(vocab),
            "max_position_embeddings": 77,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
        },
        vision_config={**small, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    import torch

    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(out)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=processor, tokenizer=tokenizer).save_pretrained(out)
    if sentence_transformers_layout:
        modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.CLIPModel"}]
        (out / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    return out


def tiny_siglip(out: Path) -> Path:
    """A SigLIP model of random weights at ``out`` in the Hugging Face layout (a character-level tokenizer),
    32-dim vectors."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        SiglipConfig,
        SiglipImageProcessor,
        SiglipModel,
        SiglipProcessor,
    )

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {chr(c): c - 29 for c in range(32, 127)}
    words = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=16
    )
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    text = {**small, "vocab_size": len(vocab), "max_position_embeddings": 16, "pad_token_id": 0}
    config = SiglipConfig(
        text_config={**text, "bos_token_id": 1, "eos_token_id": 1},
        vision_config={**small, "image_size": 32, "patch_size": 8},
    )
    import torch

    torch.manual_seed(0)
    SiglipModel(config).save_pretrained(out)
    processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    SiglipProcessor(image_processor=processor, tokenizer=tokenizer).save_pretrained(out)
    return out
