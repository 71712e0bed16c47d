"""Topic labels by a language model (BERTopic's representation models, done in code where it can be):
one call per topic with its keywords and most central documents; the answer is bound to one short
line by a grammar where the backend applies one, then cleaned (quotes, "Label:", tags, a final
period). A refusal or an empty answer gives no label (``None``) and a note, never the refusal text.
"""

from __future__ import annotations

from dataclasses import dataclass

from textlens.llm import Generator, get_generator
from textlens.llm.answers import clean_item, refusal

PROMPT = (
    "A topic was found in a collection of documents.\n"
    "Its keywords, most typical first: {words}\n\n"
    "Some of its documents:\n{docs}\n\n"
    "Write a short label for this topic: 2 to 5 words, in the documents' language, no quotes. "
    "Answer with the label only."
)
LABEL_GRAMMAR = r'root ::= [^\n"]{2,60}'
MAX_WORDS = 8


@dataclass
class TopicLabel:
    """A topic's label, or ``None`` with a note saying why."""

    topic: int
    label: str | None
    note: str | None = None


def label_topics(
    model,
    llm: str | Generator | None = None,
    *,
    docs_per_topic: int = 3,
    words: int = 10,
    chars_per_doc: int = 400,
) -> list[TopicLabel]:
    """A label for each topic of a fitted :class:`~textlens.topics.TopicModel`, stored on the
    topics (``Topic.name``) and returned. The documents shown are the topic's most central ones
    (cut to ``chars_per_doc`` characters); ``words`` keywords are shown."""
    generator = get_generator(llm) if not isinstance(llm, Generator) else llm
    out = []
    for topic in model.topics:
        docs = "\n".join(f"- {_short(model.docs[i], chars_per_doc)}" for i in topic.representative[:docs_per_topic])
        prompt = PROMPT.format(words=", ".join(w for w, _ in topic.words[:words]), docs=docs)
        generation = generator.generate(
            [{"role": "user", "content": prompt}], max_tokens=24, grammar=LABEL_GRAMMAR, stop=["\n"]
        )
        label = read_label(generation.text)
        note = None
        if label is None:
            said = " ".join(generation.text.split())[:80]
            note = f"the model refused: {said!r}" if refusal(said) else f"no usable label in {said!r}"
        topic.name = label
        out.append(TopicLabel(topic.id, label, note))
    return out


def read_label(answer: str) -> str | None:
    """The label in ``answer``: its first line, cleaned, at most ``MAX_WORDS`` words; ``None`` for a
    refusal or nothing left."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if not lines or refusal(lines[0]):
        return None
    label = clean_item(lines[0])
    return " ".join(label.split()[:MAX_WORDS]) or None


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
