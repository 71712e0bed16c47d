"""Text classification on sentence embeddings: trained, few-shot and zero-shot."""

from textlens.classify.metrics import classification_report
from textlens.classify.model import EmbeddingClassifier

__all__ = ["EmbeddingClassifier", "classification_report"]
