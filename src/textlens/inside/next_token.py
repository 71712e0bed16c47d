"""The LM head by hand: from the last hidden state to the next token's probabilities.

At each step of greedy generation, :func:`next_tokens` takes the hidden state of the
last position as it leaves the last block, applies the final norm and multiplies by the
output matrix (the LM head) itself, turns the logits into probabilities, and checks its
logits against the model's. :func:`sampling` shows what temperature, top-k and top-p do to
one such distribution.

Example:
    >>> run = next_tokens("The capital of France is", steps=2)
    >>> run.steps[0].candidates[0].token
    ' Paris'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textlens.errors import InputError
from textlens.inside.models import DEFAULT_MODEL, load


@dataclass
class Candidate:
    token: str
    id: int
    logit: float
    probability: float


@dataclass
class NextTokenStep:
    """One position: the top candidates, and the one greedy decoding takes (the first)."""

    position: int
    candidates: list[Candidate]
    max_logit_error: float  # ours against the model's logits over the whole vocabulary


@dataclass
class NextTokens:
    model: str
    prompt: str
    steps: list[NextTokenStep]
    formula: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The tokens greedy decoding chose, joined."""
        return "".join(step.candidates[0].token for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "generated": self.text,
            "formula": self.formula,
            "steps": [
                {
                    "position": s.position,
                    "max_logit_error": s.max_logit_error,
                    "candidates": [vars(c) for c in s.candidates],
                }
                for s in self.steps
            ],
        }

    def to_html(self) -> str:
        from textlens.inside.render import next_tokens_html

        return next_tokens_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


def _norm(module, h: np.ndarray) -> np.ndarray:
    """The model's final norm, by hand: RMSNorm (Llama, Qwen, Mistral) or LayerNorm."""
    weight = module.weight.detach().double().numpy()
    eps = float(getattr(module, "variance_epsilon", getattr(module, "eps", 1e-5)))
    if getattr(module, "bias", None) is not None:  # LayerNorm
        centred = h - h.mean(-1, keepdims=True)
        return centred / np.sqrt((centred**2).mean(-1, keepdims=True) + eps) * weight + module.bias.double().numpy()
    return h / np.sqrt((h**2).mean(-1, keepdims=True) + eps) * weight


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def next_tokens(prompt: str, model: str = DEFAULT_MODEL, *, steps: int = 5, top: int = 5) -> NextTokens:
    """Greedy generation of ``steps`` tokens with the LM head computed by hand at each step."""
    import torch

    if steps < 1 or top < 1:
        raise InputError(f"steps and top must be at least 1 (got {steps}, {top})")
    lm = load(model)
    if not lm.causal:
        raise InputError(f"{lm.facts.name} is an encoder: it has no next-token head", hint="Name a decoder LLM.")
    norm = getattr(getattr(lm.model, "model", None), "norm", None)
    if norm is None:
        raise InputError(f"{lm.facts.name}: no final norm where Llama-like models keep it (model.norm)")
    head = lm.model.get_output_embeddings().weight.detach().float().numpy()  # vocab x hidden, as the model keeps it
    ids = lm.encode(prompt, what="prompt")
    seen: dict[str, Any] = {}
    out_steps = []
    with lm.hooked(pre=[(norm, lambda _m, args: seen.__setitem__("h", args[0].detach()))]):
        for _ in range(steps):
            logits = lm.forward(ids).logits[0, -1].double().numpy()
            ours = (head @ _norm(norm, seen["h"][0, -1].double().numpy()).astype(np.float32)).astype(np.float64)
            probs = softmax(ours)
            order = np.argsort(-ours, kind="stable")[:top]
            candidates = [
                Candidate(lm.tokenizer.decode([int(i)]), int(i), float(ours[i]), float(probs[i])) for i in order
            ]
            out_steps.append(NextTokenStep(ids.shape[1], candidates, float(np.abs(ours - logits).max())))
            ids = torch.cat([ids, torch.tensor([[int(order[0])]])], dim=1)
    formula = [
        "h = the last position's hidden state after the last block",
        f"logits = W_out · norm(h)   (W_out: {head.shape[0]:,} x {head.shape[1]:,}"
        + (", the token embeddings themselves: tied)" if lm.facts.tied_embeddings else ")"),
        "p = softmax(logits); greedy decoding takes the largest",
    ]
    return NextTokens(lm.facts.name, prompt, out_steps, formula)


@dataclass
class Sampled:
    """One distribution under a sampling setting: the tokens left and their probabilities."""

    setting: str
    tokens: list[tuple[str, float]]
    kept: int


def sampling(
    prompt: str,
    model: str = DEFAULT_MODEL,
    *,
    temperatures: tuple[float, ...] = (0.5, 1.0, 1.5),
    top_k: int = 10,
    top_p: float = 0.9,
    show: int = 8,
) -> list[Sampled]:
    """What temperature, top-k and top-p do to the next-token distribution after ``prompt``."""

    if any(t <= 0 for t in temperatures):
        raise InputError("temperatures must be above 0", hint="Greedy decoding is the limit as T goes to 0.")
    if top_k < 1 or not 0 < top_p <= 1:
        raise InputError(f"top_k must be at least 1 and top_p in (0, 1] (got {top_k}, {top_p})")
    lm = load(model)
    if not lm.causal:
        raise InputError(f"{lm.facts.name} is an encoder: it has no next-token head", hint="Name a decoder LLM.")
    ids = lm.encode(prompt, what="prompt")
    logits = lm.forward(ids).logits[0, -1].double().numpy()
    name = lambda i: lm.tokenizer.decode([int(i)])  # noqa: E731
    rows = []
    for t in temperatures:
        p = softmax(logits / t)
        order = np.argsort(-p, kind="stable")
        rows.append(Sampled(f"temperature {t:g}", [(name(i), float(p[i])) for i in order[:show]], len(p)))
    p = softmax(logits)
    order = np.argsort(-p, kind="stable")
    kept = order[:top_k]
    rows.append(Sampled(f"top-k {top_k}", [(name(i), float(p[i] / p[kept].sum())) for i in kept[:show]], top_k))
    # top-p: the smallest set of most likely tokens whose probabilities reach p
    n = int(np.searchsorted(np.cumsum(p[order]), top_p) + 1)
    kept = order[:n]
    rows.append(Sampled(f"top-p {top_p:g}", [(name(i), float(p[i] / p[kept].sum())) for i in kept[:show]], n))
    return rows
