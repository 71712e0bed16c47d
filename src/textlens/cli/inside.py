"""``textlens inside``: what a real model does with the tokens (architecture, attention, the LM
head, the KV cache)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textlens.cli.common import handle_errors
from textlens.inside.models import DEFAULT_MODEL

app = typer.Typer(
    help="Look inside a transformer: its modules, attention (checked by our own code), next-token "
    "probabilities, the KV cache, token embeddings and LoRA, on real weights (GGUF or Hugging Face folders).",
    no_args_is_help=True,
)
console = Console()
MODEL_HELP = (
    "A catalog LLM (textlens models list), an encoder such as all-MiniLM-L6-v2, a .gguf file or a model folder."
)


def _write_html(path: Path | None, text: str) -> None:
    if path is not None:
        from textlens.atomic import atomic_open

        with atomic_open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        Console(stderr=True).print(f"wrote {path}")


def _quiet() -> None:
    """transformers' own progress bars (and its GGUF loader's tqdm bar) stay off the terminal."""
    import os

    from transformers.utils import logging as hf_logging

    os.environ.setdefault("TQDM_DISABLE", "1")
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


@app.command("model")
@handle_errors
def model_cmd(
    model: str = typer.Argument(DEFAULT_MODEL, help=MODEL_HELP),
    depth: int = typer.Option(4, "--depth", min=1, help="Show modules down to this depth."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts and the module tree as JSON."),
    html_out: Path = typer.Option(None, "--html", help="Write the facts and module tree as a page."),
) -> None:
    """Architecture facts (from the model's own files) and the module tree with shapes and parameters."""
    from textlens.inside.tree import module_tree

    _quiet()
    tree = module_tree(model)
    _write_html(html_out, tree.to_html())
    if as_json:
        typer.echo(json.dumps(tree.to_dict(), indent=2))
        return
    f = tree.facts
    console.print(f"[bold]{escape(f.name)}[/] ({f.architecture}, {f.kind}; facts from {f.source})")
    group = f", groups of {f.group_size}" if f.group_size > 1 else ""
    console.print(
        f"{f.layers} layers, hidden {f.hidden_size}, FFN {f.intermediate_size}, "
        f"{f.heads} heads / {f.kv_heads} KV heads ({f.attention_type}{group}), head size {f.head_dim}, "
        f"vocabulary {f.vocab_size:,}, context {f.context_length:,}, "
        f"{'RoPE base ' + format(f.rope_base, 'g') if f.rope_base else 'learned positions'}, {f.norm}, {f.activation}; "
        f"{tree.total_parameters:,} parameters ({f.embedding_parameters:,} in the token embeddings"
        f"{', tied to the output' if f.tied_embeddings and f.kind == 'decoder' else ''})",
        highlight=False,
    )
    table = Table(box=None)
    for col in ("module", "type", "weights", "parameters"):
        table.add_column(col, justify="right" if col == "parameters" else "left")
    for r in tree.rows:
        if r.depth > depth:
            continue
        name = "  " * (r.depth - 1) + r.path.rsplit(".", 1)[-1] + (f" × {r.repeat}" if r.repeat > 1 else "")
        weights = ", ".join(f"{n} {list(s)}" for n, s in r.weights) + (f" (tied to {r.tied_to})" if r.tied_to else "")
        table.add_row(escape(name), r.kind, escape(weights), f"{r.parameters:,}")
    console.print(table)


@app.command("attention")
@handle_errors
def attention_cmd(
    text: str = typer.Argument(..., help="The text the model reads."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    layer: int = typer.Option(None, "--layer", help="The layer to show (default the last)."),
    head: int = typer.Option(0, "--head", help="The head to show."),
    generate: int = typer.Option(0, "--generate", min=0, help="Also the attention of N tokens the model writes."),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Recompute the layer's attention step by step and compare with the model."
    ),
    window: int = typer.Option(64, "--window", min=2, help="Tokens shown in the HTML heatmap (the last N)."),
    as_json: bool = typer.Option(False, "--json", help="Print tokens and weights (the chosen layer) as JSON."),
    html_out: Path = typer.Option(None, "--html", help="Write the heatmap and the layer's heads as a page."),
) -> None:
    """The attention weights of a layer's heads over TEXT (and over tokens the model then writes): the
    strongest links of one head, a heatmap page, and the layer recomputed step by step."""
    from textlens.inside.attention import attention, attention_steps, check_head, check_layer
    from textlens.inside.models import architecture

    _quiet()
    facts = architecture(model)
    layer = facts.layers - 1 if layer is None else layer
    check_layer(facts, layer)
    check_head(facts, head)
    view = attention(text, model, generate=generate, layers=[layer])
    steps = attention_steps(text, layer, model) if check else None
    _write_html(html_out, view.to_html(layer=layer, head=head, window=window))
    if as_json:
        out = view.to_dict(layers=[layer])
        if steps is not None:
            out["check"] = steps.to_dict()
        typer.echo(json.dumps(out))
        return
    console.print(
        f"[bold]{escape(view.model)}[/]: {len(view.tokens)} tokens, {view.facts.layers} layers × {view.facts.heads} "
        f"heads ({view.facts.attention_type}); layer {layer}, head {head}",
        highlight=False,
    )
    table = Table(box=None)
    table.add_column("token")
    table.add_column("attends most to")
    for i, tok in enumerate(view.tokens[-40:], start=max(0, len(view.tokens) - 40)):
        mark = " (generated)" if i >= view.prompt_tokens else ""
        top = ", ".join(f"{t!r} {w:.2f}" for t, w in view.strongest(layer, head, i))
        table.add_row(escape(repr(tok) + mark), escape(top))
    console.print(table)
    if steps is not None:
        for i, s in enumerate(steps.steps, 1):
            console.print(
                f"{i:>2}. {s.name:<18} {' × '.join(map(str, s.shape)):<16} {escape(s.formula)}", highlight=False
            )
        console.print(
            f"by hand vs the model: weights differ by at most {steps.max_weight_error:.1e}, "
            f"output by {steps.max_output_error:.1e}",
            highlight=False,
        )
        for note in steps.notes:
            console.print(f"note: {escape(note)}", highlight=False)


@app.command("next-token")
@handle_errors
def next_token_cmd(
    prompt: str = typer.Argument(..., help="The text to continue."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    steps: int = typer.Option(5, "--steps", min=1, help="Greedy steps."),
    top: int = typer.Option(5, "--top", min=1, help="Candidates shown per step."),
    temperature: list[float] = typer.Option(None, "--temperature", help="Temperatures to compare (default 0.5 1 1.5)."),
    top_k: int = typer.Option(10, "--top-k", min=1),
    top_p: float = typer.Option(0.9, "--top-p", min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json"),
    html_out: Path = typer.Option(None, "--html"),
) -> None:
    """The LM head by hand: the top next tokens at each greedy step, and what sampling settings do."""
    from textlens.inside.next_token import next_tokens, sampling

    _quiet()
    run = next_tokens(prompt, model, steps=steps, top=top)
    temps = tuple(temperature) if temperature else (0.5, 1.0, 1.5)
    sampled = sampling(prompt, model, temperatures=temps, top_k=top_k, top_p=top_p)
    _write_html(html_out, run.to_html())
    if as_json:
        data = run.to_dict()
        data["sampling"] = [{"setting": s.setting, "kept": s.kept, "tokens": s.tokens} for s in sampled]
        typer.echo(json.dumps(data))
        return
    for line in run.formula:
        console.print(escape(line), highlight=False)
    console.print(f"[bold]{escape(prompt)}[/]{escape(run.text)}")
    for step in run.steps:
        cands = "  ".join(f"{c.token!r} {c.probability:.3f}" for c in step.candidates)
        console.print(
            f"position {step.position}: {escape(cands)}  (vs model: {step.max_logit_error:.1e})", highlight=False
        )
    console.print("[bold]sampling the first step[/]")
    for s in sampled:
        toks = "  ".join(f"{t!r} {p:.3f}" for t, p in s.tokens[:6])
        console.print(f"{s.setting:<16} ({s.kept:,} tokens left) {escape(toks)}", highlight=False)


@app.command("kv-cache")
@handle_errors
def kv_cache_cmd(
    model: str = typer.Argument(DEFAULT_MODEL, help=MODEL_HELP),
    context: int = typer.Option(None, "--context", min=1, help="Tokens in the cache (default the model's context)."),
    batch: int = typer.Option(1, "--batch", min=1),
    bytes_per_value: int = typer.Option(2, "--bytes", min=1, help="Bytes per cached number (2: fp16/bf16)."),
    live: int = typer.Option(0, "--live", min=0, help="Also time N generated tokens with and without the cache."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """KV cache memory as built and as MHA / MQA variants; with --live, the time it saves."""
    from textlens.inside.kv_cache import cache_memory, cache_timing
    from textlens.inside.models import architecture

    _quiet()
    facts = architecture(model)
    rows = cache_memory(facts, context=context, batch=batch, bytes_per_value=bytes_per_value)
    timing = cache_timing(model, new_tokens=live) if live else None
    if as_json:
        typer.echo(json.dumps({"memory": [r.to_dict() for r in rows], "timing": timing and timing.to_dict()}))
        return
    table = Table(title=f"KV cache of {facts.name}", box=None)
    for col in ("attention", "KV heads", "per token", "total", "formula"):
        table.add_column(col, justify="left" if col in ("attention", "formula") else "right")
    for r in rows:
        table.add_row(r.attention, str(r.kv_heads), f"{r.bytes_per_token / 1024:,.1f} KiB",
                      f"{r.total_bytes / 2**20:,.1f} MiB", r.formula)  # fmt: skip
    console.print(table)
    if timing is not None:
        console.print(
            f"{timing.new_tokens} new tokens: {timing.with_cache_s:.2f} s with the cache, "
            f"{timing.without_cache_s:.2f} s without ({timing.speedup:.1f}x); "
            f"same tokens: {'yes' if timing.same_tokens else 'no'}",
            highlight=False,
        )


@app.command("embeddings")
@handle_errors
def embeddings_cmd(
    word: str = typer.Argument(..., help="A word (split into tokens when the vocabulary lacks it)."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    top: int = typer.Option(10, "--top", min=1, help="Nearest tokens shown."),
    context: list[str] = typer.Option(
        None, "--context", help="Two sentences holding WORD: its vector compared layer by layer (give it twice)."
    ),
    undertrained_tokens: bool = typer.Option(
        False, "--undertrained", help="Also the tokens whose embeddings look untrained."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """WORD's nearest tokens in the model's input embedding matrix; with --context, how its
    contextual vector differs between two sentences at each layer."""
    from textlens.errors import InputError
    from textlens.inside.embeddings import contextual, neighbours, undertrained

    _quiet()
    if context and len(context) != 2:
        raise InputError(
            f"--context takes exactly two sentences, got {len(context)}", hint='--context "..." --context "..."'
        )
    near = neighbours(word, model, top=top)
    ctx = contextual(word, (context[0], context[1]), model) if context else None
    low = undertrained(model) if undertrained_tokens else None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "neighbours": near.to_dict(),
                    "contextual": ctx and ctx.to_dict(),
                    "undertrained": low and low.to_dict(),
                }
            )
        )
        return
    split = f" (split: {' + '.join(map(repr, near.pieces))}; looked up {near.token!r})" if len(near.pieces) > 1 else ""
    console.print(f"[bold]{escape(word)}[/] in {escape(near.model)}{escape(split)}", highlight=False)
    console.print("  ".join(f"{escape(repr(t))} {c:.3f}" for t, c in near.neighbours), highlight=False)
    if ctx is not None:
        console.print(
            f"cosine of {word!r} between the sentences, layer 0 (embeddings) to {len(ctx.cosine_per_layer) - 1}:"
        )
        console.print(" ".join(f"{c:.2f}" for c in ctx.cosine_per_layer), highlight=False)
    if low is not None:
        console.print(
            f"{low.flagged:,} of {low.vocab_size:,} tokens lie far below the median norm {low.median_norm} "
            f"(threshold {low.threshold}); the lowest:",
            highlight=False,
        )
        console.print("  ".join(f"{i}:{escape(repr(t))} {n:.3f}" for i, t, n in low.tokens), highlight=False)


@app.command("lora")
@handle_errors
def lora_cmd(
    model: str = typer.Argument(DEFAULT_MODEL, help=MODEL_HELP),
    rank: list[int] = typer.Option(None, "--rank", "-r", help="Ranks to compare (default 4, 8, 16, 64)."),
    targets: str = typer.Option(
        None, "--targets", help="Comma-separated module names (default the attention projections)."
    ),
    train: bool = typer.Option(False, "--train", help="Train an adapter (the first rank) briefly, merge it and check."),
    steps: int = typer.Option(30, "--steps", min=1, help="Training steps with --train."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which modules can take a LoRA adapter; trainable parameters and adapter size per rank; with
    --train, a real adapter trained with peft, its loss, merged and checked."""
    from textlens.inside.lora import lora_plan, lora_targets, lora_train

    _quiet()
    chosen = [t.strip() for t in targets.split(",") if t.strip()] if targets else None
    ranks = rank or [4, 8, 16, 64]
    plans = [lora_plan(model, rank=r, targets=chosen) for r in ranks]
    run = lora_train(model, rank=ranks[0], targets=chosen, steps=steps) if train else None
    if as_json:
        typer.echo(json.dumps({
            "targets": [{"name": t.name, "count": t.count, "shapes": t.shapes} for t in lora_targets(model)],
            "plans": [p.to_dict() for p in plans],
            "run": run and run.to_dict(),
        }))  # fmt: skip
        return
    table = Table(title=f"Linear modules of {plans[0].model}", box=None)
    for col in ("name", "count", "in x out"):
        table.add_column(col)
    for t in lora_targets(model):
        table.add_row(
            t.name, str(t.count), ", ".join(f"{i} x {o}" + (f" ({n})" if n != t.count else "") for i, o, n in t.shapes)
        )
    console.print(table)
    table = Table(title="LoRA on " + ", ".join(t.name for t in plans[0].targets), box=None)
    for col in ("rank", "trainable", "share of the model", "adapter (fp32)"):
        table.add_column(col, justify="right")
    for p in plans:
        table.add_row(str(p.rank), f"{p.trainable:,}", f"{p.share:.3%}", f"{p.adapter_bytes / 2**20:.2f} MiB")
    console.print(table)
    if run is not None:
        console.print(
            f"trained rank {run.plan.rank} for {len(run.losses)} steps in {run.seconds:.1f} s: "
            f"loss {run.losses[0]:.3f} → {run.losses[-1]:.3f}; peft counts {run.peft_trainable:,} trainable; "
            f"adapter on disk {run.adapter_bytes_on_disk / 2**20:.2f} MiB; "
            f"merged vs adapted logits differ by at most {run.max_merge_error:.1e}",
            highlight=False,
        )
        console.print(f"answer before: {run.before!r}\nanswer after:  {run.after!r}", highlight=False)
