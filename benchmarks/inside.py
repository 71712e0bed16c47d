"""``textlens inside`` on this CPU: the KV cache on and off, cache memory per attention type, and
the time to load each model and to draw the attention view of a 200-token text.

For each decoder (SmolLM2-135M, and Qwen2.5-Coder-1.5B when pulled): load time (GGUF
dequantised by transformers), greedy generation of exactly 100 new tokens with and without
the KV cache (transformers' ``generate``, the book's chapter-3 experiment; both must write the
same tokens), the cache memory of the model as built and of MHA and MQA variants at its full
context (fp16) next to the formula, and the time of ``attention()`` plus its HTML page over a
200-token text (every layer and head), and how far textlens's step-by-step attention is from the
model's own on that text (first, middle and last layer). Writes ``benchmarks/results/inside.json``.

Usage: python benchmarks/inside.py [--models smollm2-135m,qwen2.5-coder-1.5b] [--new-tokens 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
from transformers.utils import logging as hf_logging

import textlens
from provenance import write_result
from textlens.inside import architecture, attention, attention_steps, cache_memory, cache_timing, load
from textlens.inside.models import unload
from textlens.llm import locate, spec

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "Photosynthesis is the process by which green plants, algae and some bacteria turn light into chemical "
    "energy. In the chloroplasts, chlorophyll absorbs mostly blue and red light; the energy splits water, "
    "releases oxygen and makes ATP and NADPH, which the Calvin cycle then uses to fix carbon dioxide into "
    "sugars. The rate depends on light intensity, the concentration of carbon dioxide and temperature, and "
    "each can limit it. Plants in hot, dry places have evolved C4 and CAM pathways that concentrate carbon "
    "dioxide around the enzyme RuBisCO and lose less water. Almost all life on Earth depends on this process, "
    "directly or through the food chain, and the oxygen in the air comes from it. Over geological time it "
    "changed the atmosphere, made the ozone layer possible and laid down the coal and oil that people burn today. "
    "Scientists study it to breed crops that yield more grain with less water and fertiliser, and engineers try "
    "to copy it in artificial leaves that make fuel from sunlight, water and carbon dioxide. Satellites measure "
    "the faint glow of chlorophyll from space to map how much the forests, grasslands and oceans of the planet "
    "take up in each season, and how droughts and heat waves slow them down."
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-1.5b")
    parser.add_argument("--new-tokens", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/inside.json")
    args = parser.parse_args()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    rows = []
    for name in args.models.split(","):
        if locate(spec(name), verify=False) is None:
            print(f"{name}: not pulled (textlens models pull {name}); skipped", flush=True)
            continue
        facts = architecture(name)
        start = time.perf_counter()
        lm = load(name)
        load_s = time.perf_counter() - start
        timing = cache_timing(name, new_tokens=args.new_tokens)
        ids = lm.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
        if len(ids) < 200:
            raise SystemExit(f"the benchmark text is {len(ids)} tokens for {name}; it must reach 200")
        text = lm.tokenizer.decode(ids[:200])
        start = time.perf_counter()
        view = attention(text, name)
        page = view.to_html()
        attention_s = time.perf_counter() - start
        check = {}  # our step-by-step attention against the model's own, first, middle and last layer
        for layer in (0, facts.layers // 2, facts.layers - 1):
            steps = attention_steps(text, layer, name)
            check[layer] = {
                "max_weight_error": steps.max_weight_error,
                "max_output_error": steps.max_output_error,
                "max_score": round(steps.max_score, 1),
                "notes": steps.notes,
            }
        row = {
            "model": name,
            "facts": facts.to_dict(),
            "load_s": round(load_s, 1),
            "kv_cache": timing.to_dict(),
            "step_by_step_check": check,
            "cache_memory_full_context_fp16": [r.to_dict() for r in cache_memory(facts)],
            "attention_view": {
                "tokens": len(view.tokens),
                "seconds": round(attention_s, 2),
                "html_bytes": len(page),
                "weights_shape": list(view.weights.shape),
            },
        }
        print(json.dumps(row)[:600], flush=True)
        rows.append(row)
        unload()  # free the model before the next one
    out = {
        "benchmark": "inside",
        "textlens": textlens.__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "new_tokens": args.new_tokens,
        "results": rows,
    }
    write_result(args.out, out)


if __name__ == "__main__":
    main()
