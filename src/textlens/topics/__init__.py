"""Topics of a corpus, BERTopic's pipeline made deterministic: see :class:`TopicModel`."""

from textlens.topics.ctfidf import ctfidf
from textlens.topics.model import Topic, TopicModel
from textlens.topics.quality import label_agreement, npmi_coherence, topic_quality

__all__ = ["Topic", "TopicModel", "ctfidf", "label_agreement", "npmi_coherence", "topic_quality"]
