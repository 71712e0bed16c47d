"""The training loop both model kinds share: estimate, train, early-stop on dev, keep or refuse, save atomically.

A :class:`Task` knows its model (the batches, the loss, the dev score, how to save);
:func:`fit` does the rest. Before training, a few optimiser steps are timed and undone
to estimate the run's length on this machine. After each epoch the dev nDCG@10 is
measured; the best epoch's weights are kept; training stops after ``patience`` epochs
without beating the best epoch. If the best is worse than before training, nothing is written unless
``keep_worse`` asks for it.

The model folder is written under a hidden ``.NAME.partial-PID`` folder beside the
output and renamed into place at the end: a run stopped by Ctrl-C or SIGKILL never
leaves a folder at the output path that looks like a finished model.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textlens.atomic import process_alive, write_json
from textlens.errors import Conflict, InputError
from textlens.progress import Progress

Events = Callable[[dict[str, Any]], None]
SAMPLE_STEPS = 3  # optimiser steps timed (then undone) for the estimate


@dataclass
class TrainConfig:
    """Hyper-parameters shared by both kinds (each kind has its own defaults: see its ``train_*``)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 2e-5
    head_learning_rate: float | None = None  # a new score head's own rate (None: the learning rate)
    max_length: int = 256
    negatives: int = 7
    random_negatives: int = 0  # of the ``negatives``, how many are random unjudged documents instead of mined
    margin: float = 0.05
    lora_rank: int = 0
    lora_alpha: float | None = None  # None: twice the rank
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    dev_fraction: float = 0.2
    patience: int = 1
    seed: int = 0
    keep_worse: bool = False

    def check(self) -> None:
        checks = (
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 2, "the batch size must be at least 2"),
            (self.learning_rate > 0, "the learning rate must be positive"),
            (16 <= self.max_length <= 8192, "max length must be between 16 and 8192 tokens"),
            (
                self.head_learning_rate is None or self.head_learning_rate > 0,
                "the head's learning rate must be positive",
            ),
            (self.negatives >= 1, "at least one negative per query is needed"),
            (0 <= self.random_negatives <= self.negatives, "random negatives must be between 0 and --negatives"),
            (self.lora_rank >= 0, "the LoRA rank must be 0 (off) or more"),
            (self.patience >= 0, "patience must be 0 or more"),
        )
        for ok, message in checks:
            if not ok:
                raise InputError(message, hint="See textlens train --help for each option's range.")


@dataclass
class TrainReport:
    """What a training run did: data, parameters, time, dev nDCG@10 before and after, where it saved."""

    kind: str
    base: str
    output: str | None
    saved: bool
    dev_before: float | None
    dev_after: float | None
    estimate_seconds: float
    seconds: float
    steps: int
    epochs_run: int
    trainable_parameters: int
    total_parameters: int
    adapter_bytes: int | None
    peak_memory_mb: float
    data: dict[str, Any]
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    rerank_weight: float | None = None  # a reranker's --rerank-weight at which dev_after was measured

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Task(Protocol):
    """One model kind's part of training."""

    kind: str
    base: str
    module: Any  # the torch module whose trainable parameters are optimised

    def param_groups(self) -> list[dict[str, Any]]:
        """The trainable parameters as AdamW groups (a group may carry its own ``lr``)."""
        ...

    def batches(self, epoch: int) -> list[Any]: ...

    def loss(self, batch: Any) -> Any: ...

    def dev_ndcg(self) -> float | None: ...

    def baseline(self) -> float | None:
        """Dev nDCG@10 of what a user has without this training (the base model, or the first stage)."""
        ...

    def save(self, folder: Path) -> int | None:
        """Write a loadable model folder; return the LoRA adapter's size in bytes (None without LoRA)."""
        ...


def _interpolated(task: Task, report: TrainReport, best: float | None) -> float | None:
    """A reranker (a task with ``interpolated``) is also measured interpolated with its first stage;
    the better of that and its score alone is what training achieved (and the weight to use)."""
    measure = getattr(task, "interpolated", None)
    if measure is None or best is None:
        return best
    weight, found = measure()
    report.rerank_weight = weight
    return found if found is not None and found > best else best


def fit(
    task: Task,
    config: TrainConfig,
    output: Path | None,
    *,
    data: dict[str, Any],
    overwrite: bool = False,
    estimate_only: bool = False,
    on_event: Events | None = None,
    progress: Progress | None = None,
) -> TrainReport:
    """Train ``task`` (see the module docstring); write the model to ``output`` unless it got worse."""
    import torch

    emit = on_event or (lambda _event: None)
    if output is not None and not estimate_only:
        check_output(output, overwrite)
    torch.manual_seed(config.seed)
    groups = task.param_groups()
    params = [p for g in groups for p in g["params"]]
    trainable = sum(p.numel() for p in params)
    total = sum(p.numel() for p in task.module.parameters())
    emit({"event": "parameters", "trainable": trainable, "total": total})

    first = task.batches(0)
    steps_total = len(first) * config.epochs
    estimate = _estimate(task, groups, first, steps_total, config)
    emit({"event": "estimate", "seconds": round(estimate, 1), "steps": steps_total, "epochs": config.epochs})
    report = TrainReport(
        kind=task.kind,
        base=task.base,
        output=str(output) if output else None,
        saved=False,
        dev_before=None,
        dev_after=None,
        estimate_seconds=round(estimate, 1),
        seconds=0.0,
        steps=0,
        epochs_run=0,
        trainable_parameters=trainable,
        total_parameters=total,
        adapter_bytes=None,
        peak_memory_mb=0.0,
        data=data,
        config=asdict(config),
    )
    if estimate_only:
        report.note = "estimate only: nothing trained"
        return _finish(report)

    start = time.perf_counter()
    report.dev_before = _round(task.baseline())
    emit({"event": "dev", "epoch": 0, "ndcg@10": report.dev_before})
    best = _epochs(task, config, groups, first, steps_total, report, emit, progress)
    alone, best = best, _interpolated(task, report, best)
    report.dev_after = best
    worse = None not in (best, report.dev_before) and best <= report.dev_before
    report.seconds = round(time.perf_counter() - start, 1)
    if worse and not config.keep_worse:
        report.note = (
            f"training did not improve dev nDCG@10 (before {report.dev_before}, best epoch {best}): nothing was written"
        )
        return _finish(report)
    if worse:
        report.note = f"training made dev nDCG@10 worse ({report.dev_before} -> {report.dev_after}); written anyway"
    elif report.rerank_weight not in (None, 1.0):
        report.note = (
            f"alone the reranker scores {alone} on dev; interpolated with the first stage's score "
            f"(--rerank-weight {report.rerank_weight:g}) {best}: use it that way"
        )
    if output is not None:
        with staged_folder(output, overwrite) as folder:
            report.adapter_bytes = task.save(folder)
            report.output, report.saved = str(output), True
            write_json(folder / "textlens_training.json", _finish(report).to_dict())
    return _finish(report)


def _epochs(
    task: Task,
    config: TrainConfig,
    groups: list[dict[str, Any]],
    first: Any,
    steps_total: int,
    report: TrainReport,
    emit: Events,
    progress: Progress | None,
) -> float | None:
    """The training epochs (AdamW, linear warm-up and decay), each scored on dev; stops after ``patience`` epochs
    that do not beat the best. Leaves the best epoch's weights in the model and returns its dev nDCG@10."""
    import torch

    params = [p for g in groups for p in g["params"]]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    warmup = max(1, steps_total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps_total - s) / max(1, steps_total - warmup)))
    )
    # patience counts epochs that do not beat the best epoch so far (not the model before training: a new
    # reranker head starts below the first stage and may need every epoch to pass it)
    best, best_state, waited = None, None, 0
    for epoch in range(1, config.epochs + 1):
        batches = first if epoch == 1 else task.batches(epoch - 1)
        task.module.train()
        running = 0.0
        for n, batch in enumerate(batches, 1):
            loss = _step(task, batch, params, optimizer)
            schedule.step()
            running += loss
            report.steps += 1
            if progress:
                progress(f"epoch {epoch}/{config.epochs}", n, len(batches))
            if n % 20 == 0 or n == len(batches):
                emit({"event": "loss", "epoch": epoch, "step": report.steps, "loss": round(running / n, 4)})
        task.module.eval()
        dev = _round(task.dev_ndcg())
        report.epochs_run = epoch
        report.history.append({"epoch": epoch, "loss": round(running / max(1, len(batches)), 4), "dev_ndcg@10": dev})
        emit({"event": "dev", "epoch": epoch, "ndcg@10": dev})
        if dev is None or best is None or dev > best:
            best, best_state, waited = dev, _trainable_state(task.module), 0
        else:
            waited += 1
            if waited > config.patience:
                emit({"event": "early stop", "epoch": epoch, "best": best})
                break
    task.module.load_state_dict(best_state, strict=False)  # the best epoch's weights
    return best


def _step(task: Task, batch: Any, params: list, optimizer) -> float:
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss = task.loss(batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    return float(loss.detach())


def _estimate(task: Task, groups: list, batches: list, steps_total: int, config: TrainConfig) -> float:
    """Seconds for ``steps_total`` steps, from timing a few real ones whose effect is then undone."""
    import torch

    if not batches:
        raise InputError(
            "no training example was made (every training query lacks a positive or a negative)",
            hint="Check the qrels and that the collection holds the judged documents.",
        )
    sample = batches[: min(SAMPLE_STEPS + 1, len(batches))]
    saved = _trainable_state(task.module)
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    params = [p for g in groups for p in g["params"]]
    task.module.train()
    _step(task, sample[0], params, optimizer)  # warm-up, not timed
    start = time.perf_counter()
    for batch in sample[1:]:
        _step(task, batch, params, optimizer)
    per_step = (time.perf_counter() - start) / max(1, len(sample) - 1)
    task.module.load_state_dict(saved, strict=False)
    task.module.eval()
    # a dev pass: a forward pass costs about a fifth of a training step per item (measured on MiniLM)
    per_item = per_step / max(1, getattr(task, "items_per_step", config.batch_size)) / 5
    return per_step * steps_total + per_item * getattr(task, "dev_items", 0) * (config.epochs + 1)


def _trainable_state(module) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in module.state_dict().items() if _is_trainable(module, k)}


def _is_trainable(module, key: str) -> bool:
    params = dict(module.named_parameters())
    return key not in params or params[key].requires_grad


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _finish(report: TrainReport) -> TrainReport:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    report.peak_memory_mb = round(peak / 1024, 1)
    return report


def check_output(output: Path, overwrite: bool) -> None:
    """An output folder must be new (or ``overwrite``); leftovers of killed runs beside it are removed."""
    for stale in output.parent.glob(f".{output.name}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    if output.exists() and not output.is_dir():
        raise Conflict(f"{output} is a file, not a model folder", hint="Name a folder to write the model into.")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise Conflict(
            f"{output} already exists and is not empty",
            hint="Name a new folder, or pass --overwrite to replace it once the new model is written.",
            api_hint="Name a new folder, or pass overwrite=True.",
        )


@contextlib.contextmanager
def staged_folder(output: Path, overwrite: bool) -> Iterator[Path]:
    """A hidden folder beside ``output`` that replaces it when the block ends without error."""
    output = output.expanduser().resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.parent / f".{output.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        if output.exists():
            if not overwrite and any(output.iterdir()):
                raise Conflict(f"{output} appeared while training", hint="Name a new folder, or pass --overwrite.")
            old = output.parent / f".{output.name}.old-{os.getpid()}"
            os.replace(output, old)
            os.replace(tmp, output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
