"""Classification metrics: accuracy, macro F1, a per-class report and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textlens.errors import InputError


def classification_report(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Scores of ``predicted`` against ``gold``; gold labels the model does not know are an error."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    unknown = sorted(set(gold) - set(classes))
    if unknown:
        counts = {label: sum(1 for g in gold if g == label) for label in unknown[:10]}
        raise InputError(
            f"labels the model does not know: {counts} (model classes: {', '.join(classes)})",
            hint="Filter those rows out, or train a model that has these classes.",
        )
    p, r, f, support = precision_recall_fscore_support(gold, predicted, labels=list(classes), zero_division=0)
    return {
        "examples": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, labels=list(classes), average="macro", zero_division=0)), 4),
        "per_class": {
            c: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion_matrix": {
            "labels": list(classes),
            "rows_gold_columns_predicted": confusion_matrix(gold, predicted, labels=list(classes)).tolist(),
        },
    }
