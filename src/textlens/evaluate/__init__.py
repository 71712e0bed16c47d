"""Evaluation the way IR research does it: BEIR folders or your own qrels, ranx metrics, reports."""

from textlens.evaluate.data import load_qrels, load_queries
from textlens.evaluate.runner import EvalResult, ModeSpec, evaluate, evaluate_beir, evaluate_collection
from textlens.evaluate.sweep import KNOBS, SweepResult, sweep

__all__ = [
    "KNOBS",
    "EvalResult",
    "ModeSpec",
    "SweepResult",
    "evaluate",
    "evaluate_beir",
    "evaluate_collection",
    "load_qrels",
    "load_queries",
    "sweep",
]
