"""The KV cache: what it costs in memory, and what it saves in time.

A decoder that generates token ``t`` needs the keys and values of every earlier token
in every layer. The cache keeps them (``2 x layers x kv_heads x head_dim`` numbers per
token); without it, each new token recomputes the whole sequence. Grouped-query
attention (GQA) and multi-query attention (MQA) shrink the cache by sharing key/value
heads among query heads.

Example:
    >>> rows = cache_memory(architecture("qwen2.5-coder-1.5b"), context=32768)
    >>> [r.attention for r in rows]
    ['GQA (as built)', 'MHA', 'MQA']
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from textlens.errors import InputError
from textlens.inside.models import DEFAULT_MODEL, Architecture, load


@dataclass
class CacheMemory:
    attention: str
    kv_heads: int
    bytes_per_token: int
    total_bytes: int
    formula: str

    def to_dict(self) -> dict:
        return asdict(self)


def cache_memory(facts: Architecture, *, context: int | None = None, batch: int = 1, bytes_per_value: int = 2):
    """Cache memory of the model as built and of MHA and MQA variants of the same shape
    (``context``: the model's own by default; ``bytes_per_value``: 2 for fp16/bf16)."""
    if facts.kind != "decoder":
        raise InputError(f"{facts.name} is an encoder: it keeps no KV cache", hint="Name a decoder LLM.")
    context = facts.context_length if context is None else context
    if context < 1 or batch < 1 or bytes_per_value < 1:
        raise InputError(
            f"context, batch and bytes per value must be at least 1 (got {context}, {batch}, {bytes_per_value})"
        )
    variants = [(f"{facts.attention_type} (as built)", facts.kv_heads)]
    variants += [(kind, kv) for kind, kv in (("MHA", facts.heads), ("MQA", 1)) if kv != facts.kv_heads]
    rows = []
    for label, kv in variants:
        per_token = 2 * facts.layers * kv * facts.head_dim * bytes_per_value
        rows.append(
            CacheMemory(
                label,
                kv,
                per_token,
                per_token * context * batch,
                f"2 (K and V) x {facts.layers} layers x {kv} KV heads x {facts.head_dim} x {bytes_per_value} B"
                f" x {context:,} tokens x batch {batch}",
            )
        )
    return rows


@dataclass
class CacheTiming:
    model: str
    new_tokens: int
    prompt_tokens: int
    with_cache_s: float
    without_cache_s: float
    same_tokens: bool

    @property
    def speedup(self) -> float:
        return self.without_cache_s / self.with_cache_s

    def to_dict(self) -> dict:
        return {**asdict(self), "speedup": round(self.speedup, 2)}


def cache_timing(
    model: str = DEFAULT_MODEL, *, new_tokens: int = 100, prompt: str = "Write a very long story about a dog."
) -> CacheTiming:
    """Time greedy generation of exactly ``new_tokens`` tokens with and without the cache (the book's
    experiment), and check both wrote the same tokens."""
    import torch

    if new_tokens < 1:
        raise InputError(f"new_tokens must be at least 1, got {new_tokens}")
    lm = load(model)
    if not lm.causal:
        raise InputError(f"{lm.facts.name} is an encoder: it generates nothing", hint="Name a decoder LLM.")
    ids = lm.encode(prompt, what="prompt")
    outputs, seconds = [], []
    for use_cache in (True, False):
        start = time.perf_counter()
        with torch.no_grad():
            out = lm.model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                do_sample=False,
                use_cache=use_cache,
            )
        seconds.append(time.perf_counter() - start)
        outputs.append(out)
    same = outputs[0].shape == outputs[1].shape and bool((outputs[0] == outputs[1]).all())
    return CacheTiming(lm.facts.name, new_tokens, ids.shape[1], seconds[0], seconds[1], same)
