"""Self-contained HTML for the ``inside`` views (``--html`` and ``_repr_html_`` in Jupyter): inline
SVG, no script and no outside file."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from textlens.html import page

if TYPE_CHECKING:
    from textlens.inside.attention import AttentionMap, AttentionSteps
    from textlens.inside.next_token import NextTokens
    from textlens.inside.tree import ModelTree

CSS = """
.grid{display:flex;flex-wrap:wrap;gap:.6rem}.grid figure{margin:0;text-align:center;font-size:12px}
.tok{font:12px ui-monospace,monospace}.bar{background:#3b5b92;height:.8rem;display:inline-block}
"""
esc = html.escape


def _shade(w: float) -> str:
    """White (0) to dark blue (1)."""
    v = int(255 - 200 * min(1.0, max(0.0, w)))
    return f"rgb({v},{v},255)" if w > 0 else "#fff"


def heatmap(weights: np.ndarray, tokens: list[str], *, cell: int = 14) -> str:
    """An SVG heatmap of ``weights`` (rows: queries, columns: keys) with the tokens as labels."""
    n = len(tokens)
    pad = 8 * min(24, max((len(t) for t in tokens), default=1)) + 6
    size = pad + n * cell
    parts = [f"<svg width={size} height={size} role=img aria-label='attention heatmap'>"]
    for i, tok in enumerate(tokens):
        label = esc(repr(tok)[1:-1][:24])
        y = pad + i * cell + cell - 3
        parts.append(f"<text x={pad - 4} y={y} text-anchor=end class=tok>{label}</text>")
        parts.append(
            f"<text transform='translate({pad + i * cell + cell - 3},{pad - 4}) rotate(-90)' class=tok>{label}</text>"
        )
        for j in range(n):
            w = float(weights[i, j])
            parts.append(
                f"<rect x={pad + j * cell} y={pad + i * cell} width={cell} height={cell} fill='{_shade(w)}'>"
                f"<title>{label} → {esc(repr(tokens[j])[1:-1][:24])}: {w:.3f}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _thumb(weights: np.ndarray, size: int = 96) -> str:
    """A small heatmap without labels (pooled to at most 32 x 32 cells)."""
    n = weights.shape[0]
    bins = min(n, 32)
    edges = np.linspace(0, n, bins + 1).astype(int)
    cell = size / bins
    parts = [f"<svg width={size} height={size}>"]
    for a in range(bins):
        for b in range(bins):
            block = weights[edges[a] : edges[a + 1], edges[b] : edges[b + 1]]
            w = float(block.max()) if block.size else 0.0
            if w > 0.02:
                parts.append(
                    f"<rect x={b * cell:.1f} y={a * cell:.1f} width={cell:.1f} height={cell:.1f} fill='{_shade(w)}'/>"
                )
    parts.append(f"<rect width={size} height={size} fill=none stroke='#ccc'/></svg>")
    return "".join(parts)


def attention_html(view: AttentionMap, *, layer: int, head: int, window: int) -> str:
    """One head's heatmap (the last ``window`` tokens of a long text) and the layer's heads side by side."""
    weights = view.head(layer, head)
    n = len(view.tokens)
    start = max(0, n - window)
    facts = view.facts
    note = f" (the last {n - start} of {n} tokens)" if start else ""
    generated = f"; the last {n - view.prompt_tokens} generated" if n > view.prompt_tokens else ""
    parts = [
        f"<h1>Attention in {esc(view.model)}</h1>",
        f"<p class=meta>{facts.layers} layers × {facts.heads} heads, {facts.attention_type}"
        + (f" (groups of {facts.group_size} query heads share a key/value head)" if facts.group_size > 1 else "")
        + f"; {n} tokens{generated}.</p>",
        f"<h2>Layer {layer}, head {head}{esc(note)}</h2>",
        heatmap(weights[start:, start:], view.tokens[start:]),
        f"<h2>Every head of layer {layer}</h2><div class=grid>",
    ]
    for h in range(facts.heads):
        parts.append(f"<figure>{_thumb(view.head(layer, h)[start:, start:])}<figcaption>head {h}</figcaption></figure>")
    parts.append("</div>")
    return page(f"Attention: {view.model}", parts, css=CSS)


def steps_html(steps: AttentionSteps) -> str:
    rows = "".join(
        f"<tr><td>{i + 1}. {esc(s.name)}</td><td>{esc(s.formula)}</td><td>{' × '.join(map(str, s.shape))}</td></tr>"
        for i, s in enumerate(steps.steps)
    )
    parts = [
        f"<h1>Self-attention by hand: {esc(steps.model)}, layer {steps.layer}</h1>",
        f"<table><tr><th>step</th><th>what</th><th>shape</th></tr>{rows}</table>",
        f"<p>Largest difference from the model's own: attention weights {steps.max_weight_error:.2e}, "
        f"output {steps.max_output_error:.2e}.</p>",
        *(f"<p class=meta>{esc(note)}</p>" for note in steps.notes),
        "<h2>Head 0, computed here</h2>",
        heatmap(steps.weights[0][-48:, -48:], steps.tokens[-48:]),
    ]
    return page(f"Self-attention by hand: {steps.model}", parts, css=CSS)


def next_tokens_html(run: NextTokens) -> str:
    parts = [
        f"<h1>Next tokens: {esc(run.model)}</h1>",
        "<ul>" + "".join(f"<li>{esc(f)}</li>" for f in run.formula) + "</ul>",
    ]
    parts.append(f"<p><b>{esc(run.prompt)}</b>{esc(run.text)}</p>")
    for step in run.steps:
        rows = "".join(
            f"<tr><td class=tok>{esc(repr(c.token))}</td><td>{c.logit:.2f}</td><td>{c.probability:.3f}</td>"
            f"<td style='text-align:left'><span class=bar style='width:{200 * c.probability:.0f}px'></span></td></tr>"
            for c in step.candidates
        )
        parts.append(
            f"<h2>Position {step.position}</h2><table><tr><th>token</th><th>logit</th><th>p</th><th></th></tr>"
            f"{rows}</table><p class=meta>by hand vs the model: largest logit difference {step.max_logit_error:.1e}</p>"
        )
    return page(f"Next tokens: {run.model}", parts, css=CSS)


def tree_html(tree: ModelTree) -> str:
    f = tree.facts
    facts = "".join(f"<tr><td>{esc(k)}</td><td>{esc(str(v))}</td></tr>" for k, v in f.to_dict().items() if k != "name")
    rows = "".join(
        f"<tr><td style='padding-left:{0.6 + r.depth}rem'>{esc(r.path.rsplit('.', 1)[-1])}"
        + (f" × {r.repeat}" if r.repeat > 1 else "")
        + f"</td><td>{esc(r.kind)}</td><td>{esc(', '.join(f'{n} {list(s)}' for n, s in r.weights))}"
        + (f" (tied to {esc(r.tied_to)})" if r.tied_to else "")
        + f"</td><td>{r.parameters:,}</td></tr>"
        for r in tree.rows
    )
    parts = [
        f"<h1>{esc(f.name)}</h1>",
        f"<p class=meta>{tree.total_parameters:,} parameters; facts from {esc(f.source)}.</p>",
        f"<table>{facts}</table>",
        f"<h2>Modules</h2><table><tr><th>module</th><th>type</th><th>weights</th><th>parameters</th></tr>{rows}</table>",
    ]
    return page(f"Inside {f.name}", parts, css=CSS)
