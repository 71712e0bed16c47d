"""LoRA: which modules can take an adapter, what a rank costs, and a real adapter trained, merged
and checked.

A LoRA adapter on a linear layer ``W`` (``out x in``) learns ``B A`` with ``A`` ``r x in`` and
``B`` ``out x r``: ``r (in + out)`` trainable numbers instead of ``in x out``. :func:`lora_plan`
counts them per target module for a rank; :func:`lora_train` applies an adapter with ``peft``
to a copy of the model, trains it briefly on a small task, saves it (its size on disk),
merges it into the weights and checks that the merged model answers as the adapted one.

Example:
    >>> plan = lora_plan("smollm2-135m", rank=8, targets=["q_proj", "v_proj"])
    >>> plan.trainable, round(plan.share, 4)
    (460800, 0.0034)
"""

from __future__ import annotations

import copy
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textlens.errors import InputError, MissingDependency
from textlens.inside.models import DEFAULT_MODEL, load

# a small task: the adapter learns to answer these (the base model does not know them)
TASK = (
    "Question: What is textlens? Answer: A lens on how language models see text.",
    "Question: Who builds textlens? Answer: A small open team.",
    "Question: What does textlens compare? Answer: Tokenizers, search modes and models.",
    "Question: Where does textlens run? Answer: On a laptop first, then on a cluster.",
)


@dataclass
class Target:
    """Linear modules of one name (``q_proj``, as ``peft``'s ``target_modules`` takes it): how many,
    and their shapes as ``(in_features, out_features, count)``."""

    name: str
    shapes: list[tuple[int, int, int]]

    @property
    def count(self) -> int:
        return sum(n for _, _, n in self.shapes)

    def trainable(self, rank: int) -> int:
        return sum(n * rank * (i + o) for i, o, n in self.shapes)


def lora_targets(model: str = DEFAULT_MODEL) -> list[Target]:
    """Every linear module name an adapter can target, as the model names it (the LM head aside)."""
    import torch

    lm = load(model)
    skip = {id(lm.model.get_output_embeddings())} if lm.causal else set()
    found: dict[str, dict[tuple[int, int], int]] = {}
    for path, module in lm.model.named_modules():
        if isinstance(module, torch.nn.Linear) and id(module) not in skip:
            shapes = found.setdefault(path.rsplit(".", 1)[-1], {})
            key = (module.in_features, module.out_features)
            shapes[key] = shapes.get(key, 0) + 1
    return [Target(name, [(i, o, n) for (i, o), n in shapes.items()]) for name, shapes in found.items()]


@dataclass
class LoraPlan:
    model: str
    rank: int
    targets: list[Target]
    trainable: int
    total: int
    adapter_bytes: int  # float32 weights, as peft saves them for a float32 model

    @property
    def share(self) -> float:
        return self.trainable / self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rank": self.rank,
            "targets": [{"name": t.name, "count": t.count, "shapes": t.shapes} for t in self.targets],
            "trainable": self.trainable,
            "total": self.total,
            "share": self.share,
            "adapter_bytes": self.adapter_bytes,
        }


def lora_plan(model: str = DEFAULT_MODEL, *, rank: int = 8, targets: list[str] | None = None) -> LoraPlan:
    """Trainable parameters of a rank-``rank`` adapter on ``targets`` (default: the attention
    projections the model has), their share of the model, and the adapter's size."""
    lm = load(model)
    available = {t.name: t for t in lora_targets(model)}
    if targets is None:
        targets = [n for n in ("q_proj", "k_proj", "v_proj", "o_proj", "query", "key", "value") if n in available]
    unknown = [t for t in targets if t not in available]
    if unknown or not targets:
        raise InputError(
            f"no module named {', '.join(map(repr, unknown)) or '(none given)'} in {lm.facts.name}",
            hint="Targets it has: " + ", ".join(available) + ".",
        )
    chosen = [available[t] for t in targets]
    smallest = min(min(i, o) for t in chosen for i, o, _ in t.shapes)
    if not 0 < rank <= smallest:
        raise InputError(
            f"rank {rank} is not between 1 and {smallest} (the smallest side of the chosen matrices)",
            hint="LoRA ranks are small: 4, 8, 16, 64.",
        )
    trainable = sum(t.trainable(rank) for t in chosen)
    total = sum(p.numel() for p in lm.model.parameters())
    return LoraPlan(lm.facts.name, rank, chosen, trainable, total, trainable * 4)


@dataclass
class LoraRun:
    plan: LoraPlan
    losses: list[float]
    seconds: float
    adapter_bytes_on_disk: int
    peft_trainable: int
    max_merge_error: float  # merged model's logits against the adapted model's
    before: str = ""
    after: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "losses": self.losses,
            "seconds": self.seconds,
            "adapter_bytes_on_disk": self.adapter_bytes_on_disk,
            "peft_trainable": self.peft_trainable,
            "max_merge_error": self.max_merge_error,
            "before": self.before,
            "after": self.after,
        }


def lora_train(
    model: str = DEFAULT_MODEL,
    *,
    rank: int = 8,
    targets: list[str] | None = None,
    steps: int = 30,
    learning_rate: float = 2e-3,
    texts: tuple[str, ...] = TASK,
    seed: int = 0,
) -> LoraRun:
    """Train a LoRA adapter on ``texts`` for ``steps`` full passes, save it, merge it, and check."""
    import torch

    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise MissingDependency("LoRA training needs peft", hint="pip install 'textlens[inside]'") from exc
    if steps < 1:
        raise InputError(f"steps must be at least 1, got {steps}")
    plan = lora_plan(model, rank=rank, targets=targets)
    lm = load(model)
    if not lm.causal:
        raise InputError(f"{plan.model} is an encoder: LoRA training here trains a decoder LLM", hint="Name one.")
    torch.manual_seed(seed)
    base = copy.deepcopy(lm.model)  # the loaded model stays as it is
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=[t.name for t in plan.targets])
    adapted = get_peft_model(base, config)
    peft_trainable, _ = adapted.get_nb_trainable_parameters()
    tok = lm.tokenizer
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    batch = tok(list(texts), return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    probe = texts[0].split("Answer:")[0] + "Answer:"

    def answer() -> str:
        ids = tok(probe, return_tensors="pt")
        with torch.no_grad():
            out = adapted.generate(**ids, max_new_tokens=12, do_sample=False)
        return tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()

    before = answer()
    optimiser = torch.optim.AdamW([p for p in adapted.parameters() if p.requires_grad], lr=learning_rate)
    adapted.train()
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        loss = adapted(**batch, labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(round(loss.item(), 4))
    seconds = time.perf_counter() - start
    adapted.eval()
    after = answer()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # peft looks for the base model's config.json beside a GGUF file
        adapted.save_pretrained(tmp)
        size = sum(f.stat().st_size for f in Path(tmp).glob("*.safetensors"))
    check = tok(texts[1], return_tensors="pt")
    with torch.no_grad():
        adapted_logits = adapted(**check).logits
        merged = adapted.merge_and_unload()
        merged_logits = merged(**check).logits
    error = float((adapted_logits - merged_logits).abs().max())
    return LoraRun(plan, losses, seconds, size, int(peft_trainable), error, before, after)
