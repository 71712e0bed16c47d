"""Inside the transformer: architecture facts, the module tree, attention (checked by our own
step-by-step code), the LM head by hand, the KV cache, token embeddings and LoRA, on real weights.

Example:
    >>> from textlens.inside import attention_steps
    >>> attention_steps("The cat sat.", layer=0).max_weight_error < 1e-4
    True
"""

from textlens.inside.attention import AttentionMap, AttentionSteps, attention, attention_steps
from textlens.inside.embeddings import contextual, neighbours, undertrained
from textlens.inside.kv_cache import cache_memory, cache_timing
from textlens.inside.lora import lora_plan, lora_targets, lora_train
from textlens.inside.models import DEFAULT_MODEL, Architecture, architecture, load
from textlens.inside.next_token import NextTokens, next_tokens, sampling
from textlens.inside.tree import ModelTree, module_tree

__all__ = [
    "DEFAULT_MODEL",
    "Architecture",
    "AttentionMap",
    "AttentionSteps",
    "ModelTree",
    "NextTokens",
    "architecture",
    "attention",
    "attention_steps",
    "cache_memory",
    "cache_timing",
    "contextual",
    "load",
    "lora_plan",
    "lora_targets",
    "lora_train",
    "module_tree",
    "neighbours",
    "next_tokens",
    "sampling",
    "undertrained",
]
