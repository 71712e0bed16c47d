"""Attention: the model's own weights for every layer and head, and self-attention computed
step by step by short code of our own, checked against the model.

:func:`attention` runs the model once over a text (and over the tokens it generates,
when asked) and keeps its attention weights. :func:`attention_steps` recomputes one
layer's attention from the hidden states that enter it, with nothing but the layer's
weight matrices and numpy: queries, keys and values, RoPE where the model uses it, shared
key/value heads for GQA and MQA, scores, scaling, the causal mask, softmax, the weighted
sum, heads concatenated and the output projection. It reports how far its weights and
output are from the model's own.

Example:
    >>> view = attention("The cat sat on the mat because it was tired.")
    >>> view.weights.shape          # layers, heads, tokens, tokens
    (30, 9, 12, 12)
    >>> steps = attention_steps("The cat sat on the mat.", layer=3)
    >>> steps.max_weight_error < 1e-4
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textlens.errors import InputError, MissingPart
from textlens.inside.models import DEFAULT_MODEL, Architecture, LoadedModel, load


@dataclass
class AttentionMap:
    """Attention weights of every layer and head over ``tokens``.

    Attributes:
        weights: ``(len(layers), heads, n, n)``; row ``i`` is how token ``i`` (the query) spreads
            its attention over the tokens (keys). A decoder's rows sum to 1 over ``0..i``.
        layers: the model layers kept, in the order of ``weights``.
        prompt_tokens: how many of ``tokens`` were given; the rest the model generated.
    """

    model: str
    facts: Architecture
    tokens: list[str]
    prompt_tokens: int
    weights: np.ndarray
    layers: list[int]

    def head(self, layer: int, head: int) -> np.ndarray:
        """One head's ``n x n`` weights (a layer or head that does not exist: :class:`~textlens.errors.MissingPart`)."""
        check_layer(self.facts, layer)
        check_head(self.facts, head)
        if layer not in self.layers:
            raise InputError(f"layer {layer} was not kept (kept: {self.layers})", hint="Ask for it with layers=.")
        return self.weights[self.layers.index(layer), head]

    def strongest(self, layer: int, head: int, query: int, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` tokens that token ``query`` attends to most in this head."""
        row = self.head(layer, head)[query]
        order = np.argsort(-row, kind="stable")[:top]
        return [(self.tokens[i], float(row[i])) for i in order]

    def to_dict(self, *, layers: list[int] | None = None) -> dict[str, Any]:
        """Tokens and weights (rounded to 4 places; only ``layers`` when given)."""
        chosen = self.layers if layers is None else layers
        return {
            "model": self.model,
            "attention_type": self.facts.attention_type,
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "layers": chosen,
            "heads": self.facts.heads,
            "weights": [self._layer(layer) for layer in chosen],
        }

    def _layer(self, layer: int) -> list:
        return np.round(np.stack([self.head(layer, h) for h in range(self.facts.heads)]), 4).tolist()

    def to_html(self, *, layer: int | None = None, head: int = 0, window: int = 64) -> str:
        from textlens.inside.render import attention_html

        return attention_html(self, layer=self.layers[-1] if layer is None else layer, head=head, window=window)

    def _repr_html_(self) -> str:
        return self.to_html()


def check_layer(facts: Architecture, layer: int) -> None:
    if not 0 <= layer < facts.layers:
        raise MissingPart(
            f"layer {layer} does not exist: {facts.name} has layers 0..{facts.layers - 1}",
            hint=f"Choose a layer from 0 to {facts.layers - 1}.",
        )


def check_head(facts: Architecture, head: int) -> None:
    if not 0 <= head < facts.heads:
        raise MissingPart(
            f"head {head} does not exist: {facts.name} has heads 0..{facts.heads - 1} in each layer",
            hint=f"Choose a head from 0 to {facts.heads - 1}.",
        )


MAX_ATTENTION_BYTES = 2 * 2**30


def _self_attention(lm: LoadedModel, layer: int):
    """The module that computes layer ``layer``'s attention weights (it returns ``(output, weights)``)."""
    model = lm.model
    if hasattr(model, "encoder") and hasattr(model.encoder, "layer"):  # BERT-like encoders
        return model.encoder.layer[layer].attention.self
    layers = getattr(getattr(model, "model", None), "layers", None)
    module = getattr(layers[layer], "self_attn", None) if layers is not None else None
    if module is None:
        raise InputError(
            f"{lm.facts.name}: {type(model).__name__} keeps its attention where textlens does not look "
            "(model.layers[i].self_attn or encoder.layer[i].attention.self)",
            hint="Llama, Qwen2, Mistral and BERT-like models are supported.",
        )
    return module


def attention(
    text: str, model: str = DEFAULT_MODEL, *, generate: int = 0, layers: list[int] | None = None
) -> AttentionMap:
    """The attention weights of ``model`` over ``text`` and, for a decoder, over ``generate`` tokens
    it then writes (greedy): one forward pass over the whole sequence, which a causal model
    answers exactly as it did token by token. ``layers`` keeps only those (default all); all
    layers of a long text can take more memory than the machine has, which is refused."""
    import torch

    lm = load(model)
    facts = lm.facts
    ids = lm.encode(text)
    prompt_tokens = ids.shape[1]
    if generate < 0:
        raise InputError(f"generate must be 0 or more, got {generate}")
    layers = list(range(facts.layers)) if layers is None else list(layers)
    for layer in layers:
        check_layer(facts, layer)
    n = prompt_tokens + generate
    need = len(layers) * facts.heads * n * n * 4
    if need > MAX_ATTENTION_BYTES:
        raise InputError(
            f"the attention of {len(layers)} layers over {n:,} tokens takes {need / 2**30:.1f} GiB "
            f"(the limit is {MAX_ATTENTION_BYTES / 2**30:.0f} GiB)",
            hint="Choose fewer layers (--layer) or a shorter text.",
        )
    if generate:
        if not lm.causal:
            raise InputError(f"{facts.name} is an encoder: it generates no tokens", hint="Use generate=0.")
        with torch.no_grad():
            ids = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=generate, do_sample=False)
    kept: dict[int, np.ndarray] = {}

    def keep(layer: int):
        return lambda _m, _a, out: kept.__setitem__(layer, out[1][0].float().numpy())

    with lm.hooked(forward=[(_self_attention(lm, layer), keep(layer)) for layer in layers]):
        lm.forward(ids)
    weights = np.stack([kept[layer] for layer in layers])
    return AttentionMap(facts.name, facts, lm.tokens(ids[0]), prompt_tokens, weights, layers)


@dataclass
class Step:
    """One step of self-attention: what it computes, and the shape of the result."""

    name: str
    formula: str
    shape: tuple[int, ...]


@dataclass
class AttentionSteps:
    """One layer's self-attention computed by :func:`attention_steps`, next to the model's.

    Attributes:
        weights: ours, ``(heads, n, n)``; ``output``: ours after the output projection, ``(n, hidden)``.
        max_weight_error / max_output_error: the largest absolute difference from the model's own
            attention weights and attention output (both computed in float32, as the model does).
        max_score: the largest scaled score; from 1,024 on, float32 resolves scores more coarsely
            than 1e-4, and ``notes`` says so (Qwen2's first layer reaches 12,729).
    """

    model: str
    layer: int
    tokens: list[str]
    steps: list[Step]
    weights: np.ndarray
    output: np.ndarray
    max_weight_error: float
    max_output_error: float
    max_score: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "layer": self.layer,
            "tokens": self.tokens,
            "steps": [{"name": s.name, "formula": s.formula, "shape": list(s.shape)} for s in self.steps],
            "max_weight_error": self.max_weight_error,
            "max_output_error": self.max_output_error,
            "max_score": self.max_score,
            "notes": self.notes,
        }

    def to_html(self) -> str:
        from textlens.inside.render import steps_html

        return steps_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


@dataclass
class _Parts:
    """A layer's attention weights as numpy arrays (``W`` as stored by ``nn.Linear``: out x in)."""

    q: tuple[np.ndarray, np.ndarray | None]
    k: tuple[np.ndarray, np.ndarray | None]
    v: tuple[np.ndarray, np.ndarray | None]
    o: tuple[np.ndarray, np.ndarray | None]
    modules: tuple[Any, Any]  # where the attention's input enters, and where its output leaves


def _linear(module) -> tuple[np.ndarray, np.ndarray | None]:
    bias = None if module.bias is None else module.bias.detach().float().numpy()
    return module.weight.detach().float().numpy(), bias


def _parts(lm: LoadedModel, layer: int) -> _Parts:
    attn = _self_attention(lm, layer)
    if hasattr(attn, "query"):  # BERT-like: the output projection sits in the block beside it
        q, k, v, o = attn.query, attn.key, attn.value, lm.model.encoder.layer[layer].attention.output.dense
    elif all(hasattr(attn, n) for n in ("q_proj", "k_proj", "v_proj", "o_proj")):
        q, k, v, o = attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj
    else:
        raise InputError(
            f"{lm.facts.name}: the step-by-step view knows separate q/k/v/o projections "
            f"(Llama, Qwen2, Mistral, BERT); {type(lm.model).__name__} has another layout",
            hint="The model's own attention weights (attention()) still work.",
        )
    return _Parts(_linear(q), _linear(k), _linear(v), _linear(o), (q, o))


def _project(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray | None]) -> np.ndarray:
    weight, bias = weight_bias
    y = x @ weight.T
    return y if bias is None else y + bias


def rope(x: np.ndarray, base: float) -> np.ndarray:
    """Rotary position embedding of ``x`` (``heads x n x d``): each pair of dimensions ``(j, j + d/2)``
    of the vector at position ``p`` turned by the angle ``p / base^(2j/d)``."""
    _, n, d = x.shape
    inv_freq = (1.0 / base ** (np.arange(0, d, 2) / d)).astype(np.float32)
    angles = np.outer(np.arange(n, dtype=np.float32), inv_freq)  # n x d/2
    cos, sin = np.cos(angles), np.sin(angles)
    first, second = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def attention_steps(text: str, layer: int, model: str = DEFAULT_MODEL) -> AttentionSteps:
    """Recompute layer ``layer``'s self-attention over ``text`` step by step and compare it with the
    model's own weights and output."""

    lm = load(model)
    facts = lm.facts
    check_layer(facts, layer)
    rope_type = (getattr(lm.model.config, "rope_parameters", None) or {}).get("rope_type", "default")
    if facts.rope_base is not None and rope_type != "default":
        raise InputError(
            f"{facts.name} scales RoPE ({rope_type}); the step-by-step view computes plain RoPE only",
            hint="The model's own attention weights (attention()) still work.",
        )
    parts = _parts(lm, layer)
    ids = lm.encode(text)
    seen = _captured(lm, layer, parts, ids)
    # float32, as the model computes: large scores (Qwen2's key biases) make float64's answer
    # differ from the model's by its own rounding
    steps, weights, output, top = _by_hand(seen["x"][0].float().numpy(), parts, facts, lm.causal)
    theirs = seen["w"][0].float().numpy()
    resolution = float(np.spacing(np.float32(top)))
    notes = []
    if resolution > 1e-4:  # the model's own float32 weights carry rounding of this size
        notes.append(
            f"scores reach {top:,.0f} in this layer, where float32 resolves them only to {resolution:.1e}: "
            "the model's own weights are as exact as that, and so is any comparison with them"
        )
    return AttentionSteps(
        model=facts.name,
        layer=layer,
        tokens=lm.tokens(ids[0]),
        steps=steps,
        weights=weights,
        output=output,
        max_weight_error=float(np.abs(weights - theirs).max()),
        max_output_error=float(np.abs(output - seen["out"][0].float().numpy()).max()),
        max_score=top,
        notes=notes,
    )


def _captured(lm, layer: int, parts, ids) -> dict[str, Any]:
    """One forward pass, watched: the hidden states entering the layer's attention (``x``), the model's own
    attention weights (``w``) and the attention's output (``out``)."""
    seen: dict[str, Any] = {}
    enter, leave = parts.modules

    def note(key: str, value) -> None:  # a hook that returns nothing leaves the model's values alone
        seen.setdefault(key, value.detach())

    watched = [(leave, lambda _m, _a, out: note("out", out))]
    watched.append((_self_attention(lm, layer), lambda _m, _a, out: note("w", out[1])))
    with lm.hooked(forward=watched, pre=[(enter, lambda _m, args: note("x", args[0]))]):
        lm.forward(ids)
    return seen


def _by_hand(x: np.ndarray, parts, facts, causal: bool) -> tuple[list[Step], np.ndarray, np.ndarray, float]:
    """Self-attention over ``x`` (n x hidden) computed step by step from the layer's weights: the steps, the
    attention weights, the output and the largest score."""
    H, KV, d = facts.heads, facts.kv_heads, facts.head_dim
    n = x.shape[0]
    steps = [Step("input", "x: the hidden states entering attention (after the layer's norm in a decoder)", x.shape)]
    q = _project(x, parts.q).reshape(n, H, d).transpose(1, 0, 2)
    k = _project(x, parts.k).reshape(n, KV, d).transpose(1, 0, 2)
    v = _project(x, parts.v).reshape(n, KV, d).transpose(1, 0, 2)
    steps += [
        Step("queries", "Q = x W_Qᵀ (+ b), split into heads", q.shape),
        Step("keys", "K = x W_Kᵀ (+ b), split into key/value heads", k.shape),
        Step("values", "V = x W_Vᵀ (+ b), split into key/value heads", v.shape),
    ]
    if facts.rope_base is not None:
        q, k = rope(q, facts.rope_base), rope(k, facts.rope_base)
        steps.append(Step("RoPE", f"rotate Q and K by position (base {facts.rope_base:g})", q.shape))
    if KV != H:
        k, v = np.repeat(k, H // KV, axis=0), np.repeat(v, H // KV, axis=0)
        steps.append(
            Step("shared heads", f"each K/V head serves {H // KV} query heads ({facts.attention_type})", k.shape)
        )
    scores = q @ k.transpose(0, 2, 1)
    steps.append(Step("scores", "Q Kᵀ: every query against every key", scores.shape))
    scores = scores * np.float32(d**-0.5)
    steps.append(Step("scaling", f"divide by √d = √{d}", scores.shape))
    if causal:
        scores = np.where(np.triu(np.ones((n, n), dtype=bool), 1), -np.inf, scores)
        steps.append(
            Step("causal mask", "a token sees only itself and earlier tokens (-inf above the diagonal)", scores.shape)
        )
    top = float(np.abs(scores[np.isfinite(scores)]).max())
    weights = softmax(scores)
    steps.append(Step("softmax", "each row to probabilities", weights.shape))
    context = weights @ v
    steps.append(Step("weighted sum", "weights · V: each token's mix of values", context.shape))
    concat = context.transpose(1, 0, 2).reshape(n, H * d)
    steps.append(Step("concatenate heads", "heads side by side", concat.shape))
    output = _project(concat, parts.o)
    steps.append(Step("output projection", "concat W_Oᵀ (+ b)", output.shape))
    return steps, weights, output, top
