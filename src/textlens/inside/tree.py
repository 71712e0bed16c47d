"""A model's module tree: every module with its own weights' shapes and its parameter count,
the repeated blocks shown once. Built on torch's ``meta`` device from the model's
configuration, so no weight is read and it takes no memory.

Example:
    >>> tree = module_tree("smollm2-135m")
    >>> tree.rows[0].path, tree.facts.attention_type
    ('model', 'GQA')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from textlens.inside.models import DEFAULT_MODEL, Architecture, ModelFile, changed, facts_of, locate_model

_BLOCK = re.compile(r"\.(layers|layer|h|blocks)\.(\d+)(?=\.|$)")


@dataclass
class ModuleRow:
    path: str
    kind: str
    depth: int
    weights: list[tuple[str, tuple[int, ...]]]
    parameters: int
    repeat: int = 1  # a block stands for this many identical ones
    tied_to: str | None = None  # its weight is this earlier module's (counted once in the total)


@dataclass
class ModelTree:
    facts: Architecture
    rows: list[ModuleRow]
    total_parameters: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "facts": self.facts.to_dict(),
            "total_parameters": self.total_parameters,
            "modules": [
                {
                    "path": r.path,
                    "kind": r.kind,
                    "depth": r.depth,
                    "weights": {n: list(s) for n, s in r.weights},
                    "parameters": r.parameters,
                    "repeat": r.repeat,
                    "tied_to": r.tied_to,
                }
                for r in self.rows
            ],
        }

    def to_html(self) -> str:
        from textlens.inside.render import tree_html

        return tree_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


def module_tree(model: str = DEFAULT_MODEL) -> ModelTree:
    """The module tree of ``model`` (blocks ``0..N-1`` of a stack shown once, as block 0 × N); built once while
    the model's file stays the same (a GGUF's configuration takes seconds to read)."""
    found = locate_model(model)
    return _tree(found, changed(found))


@functools.lru_cache(maxsize=16)
def _tree(found: ModelFile, _changed: int) -> ModelTree:
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    facts = facts_of(found)
    folder, extra = (found.path.parent, {"gguf_file": found.path.name}) if found.gguf else (found.path, {})
    config = AutoConfig.from_pretrained(folder, **extra)
    cls = AutoModel if facts.kind == "encoder" else AutoModelForCausalLM
    with torch.device("meta"):
        net = cls.from_config(config)
    counts: dict[str, int] = {}
    for name, _ in net.named_modules():
        match = _BLOCK.search(name)
        if match:
            stack = name[: match.start()] + "." + match.group(1)
            counts[stack] = max(counts.get(stack, 0), int(match.group(2)) + 1)
    rows = []
    owner: dict[int, str] = {}
    for name, module in net.named_modules():
        own = list(module.named_parameters(recurse=False))
        tied = next((owner[id(p)] for _, p in own if id(p) in owner), None)
        owner.update({id(p): name for _, p in own if id(p) not in owner})
        match = _BLOCK.search(name)
        if match and match.group(2) != "0":
            continue
        repeat = (
            counts.get(name[: match.start()] + "." + match.group(1), 1) if match and match.end() == len(name) else 1
        )
        rows.append(
            ModuleRow(
                path=name or type(net).__name__,
                kind=type(module).__name__,
                depth=0 if not name else name.count(".") + 1,
                weights=[(n, tuple(p.shape)) for n, p in own],
                parameters=sum(p.numel() for p in module.parameters()),
                repeat=repeat,
                tied_to=tied,
            )
        )
    rows = [r for r in rows if r.depth > 0]  # the model itself is the total
    return ModelTree(facts, rows, sum(p.numel() for p in net.parameters()))
