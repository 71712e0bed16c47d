"""Zero-shot classification by a language model: the answer is bound to exactly one of the labels.

With one text per call (``batch_size=1``) the answer is bound by a grammar to the labels, and
the class probabilities are read from the model's own distribution over its first answer token
(``top_logprobs``; before the grammar narrowed it): the probability of each token that starts one
label and no other, summed per label and normalised over the labels. Labels whose first tokens
coincide share that token; then the probabilities are ``None`` (the label still is bound). Backends
without log-probabilities give labels only.

With ``batch_size=N`` one call classifies N texts (a JSON array of N labels, bound by a schema):
fewer calls, no probabilities. The instructions and labels open every prompt, so llama.cpp reads
them once and only each text afterwards.

A text longer than the model's context is cut to fit (the prediction's note says so). A backend
that does not bind its output may answer with something that is not a label: that prediction has
``label=None`` and a note, never a guessed label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textlens.errors import InputError
from textlens.llm import Generator, get_generator
from textlens.llm.answers import distinct_labels, match_label, normalise_label, read_list
from textlens.llm.fit import room_for, split_to_fit
from textlens.progress import Progress

PROMPT = (
    "Classify the text into exactly one of these labels:\n{labels}\n\n"
    "Answer with the label only, copied exactly.\n\nText: {text}"
)
BATCH_PROMPT = (
    "Classify each of the {n} numbered texts into exactly one of these labels:\n{labels}\n\n"
    "Answer with a JSON array of {n} labels, one per text, in order, each copied exactly.\n\n{texts}"
)


@dataclass
class LLMPrediction:
    """One text's label (``None`` when the model named none), probabilities per label where
    the backend gives token probabilities, and a note when something was off."""

    label: str | None
    probabilities: dict[str, float] | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        probs = self.probabilities
        return {
            "label": self.label,
            "probabilities": {k: round(v, 4) for k, v in probs.items()} if probs is not None else None,
            "note": self.note,
        }


def _gbnf(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LLMClassifier:
    """Zero-shot classification by ``llm`` into ``labels`` (see the module docs).

    Args:
        labels: the classes; they must differ after case, spaces and punctuation are ignored.
        llm: a catalog name, ``.gguf`` path, ``openai:URL[#MODEL]`` or a loaded :class:`Generator`.
        descriptions: optional, one per label, shown to the model next to each label.
        instructions: optional text before the labels (e.g. "Movie reviews.").
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        llm: str | Generator | None = None,
        descriptions: Sequence[str] | None = None,
        instructions: str | None = None,
    ) -> None:
        self.labels = distinct_labels(labels)
        if descriptions is not None and len(descriptions) != len(self.labels):
            raise InputError(f"{len(descriptions)} descriptions for {len(self.labels)} labels", hint="Give one each.")
        self.model = get_generator(llm) if not isinstance(llm, Generator) else llm
        listing = "\n".join(
            f"- {label}" + (f": {d}" if descriptions else "")
            for label, d in zip(self.labels, descriptions or self.labels, strict=True)
        )
        self.listing = (instructions.strip() + "\n\n" if instructions else "") + listing
        self.grammar = "root ::= " + " | ".join(_gbnf(label) for label in self.labels)
        self.separable = self._separable()

    def _separable(self) -> bool:
        """Whether the labels' normalised forms differ in their first characters enough to tell
        their first tokens apart (no label is a prefix of another)."""
        keys = [normalise_label(label) for label in self.labels]
        return not any(a != b and b.startswith(a) for a in keys for b in keys)

    def predict(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 1,
        on_result: Callable[[int, LLMPrediction], None] | None = None,
        progress: Progress | None = None,
    ) -> list[LLMPrediction]:
        """The prediction of each text; ``on_result(index, prediction)`` as each is done."""
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1 (got {batch_size})")
        out: list[LLMPrediction] = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            preds = [self._one(chunk[0])] if batch_size == 1 else self._batch(chunk)
            for n, pred in enumerate(preds):
                out.append(pred)
                if on_result is not None:
                    on_result(start + n, pred)
            if progress is not None:
                progress("classifying", len(out), len(texts))
        return out

    def _fit(self, text: str, template: str, share: int = 1) -> tuple[str, str | None]:
        """``text``, or its first part, so that ``template`` filled with ``share`` such texts fits the context."""
        hint = "Use fewer or shorter labels and descriptions, a smaller --batch-size, or a larger context."
        room = room_for(self.model, template, 16 * share + 8, hint) // share
        cut = split_to_fit(self.model, text, room)[0]
        if cut == text:
            return text, None
        return cut, f"cut to its first {len(cut):,} of {len(text):,} characters to fit the model's context"

    def _one(self, text: str) -> LLMPrediction:
        text, note = self._fit(text, PROMPT.format(labels=self.listing, text=""))
        generation = self.model.generate(
            [{"role": "user", "content": PROMPT.format(labels=self.listing, text=text)}],
            max_tokens=max(self.model.count_tokens(label) for label in self.labels) + 2,
            grammar=self.grammar,
            top_logprobs=20,
        )
        label = match_label(generation.text, self.labels)
        if label is None:
            said = " ".join(generation.text.split())[:80]
            return LLMPrediction(None, None, f"the model answered {said!r}, which is none of the labels")
        probs = None
        if generation.logprobs and self.separable:
            probs = self._probabilities(generation.logprobs[0].top)
        return LLMPrediction(label, probs, note)

    def _probabilities(self, top: list[tuple[str, float]]) -> dict[str, float] | None:
        mass = dict.fromkeys(self.labels, 0.0)
        keys = {label: normalise_label(label) for label in self.labels}
        for token, logprob in top:
            piece = normalise_label(token)
            if not piece:
                continue
            owners = [label for label, key in keys.items() if key.startswith(piece)]
            if len(owners) == 1:
                mass[owners[0]] += math.exp(logprob)
        total = sum(mass.values())
        return {k: v / total for k, v in mass.items()} if total > 0 else None

    def _batch(self, texts: list[str]) -> list[LLMPrediction]:
        n = len(texts)
        template = BATCH_PROMPT.format(n=n, labels=self.listing, texts="")
        fitted = [self._fit(t, template, share=n) for t in texts]
        numbered = "\n\n".join(f"Text {i}: {t}" for i, (t, _) in enumerate(fitted, 1))
        schema = {"type": "array", "items": {"enum": self.labels}, "minItems": n, "maxItems": n}
        generation = self.model.generate(
            [{"role": "user", "content": BATCH_PROMPT.format(n=n, labels=self.listing, texts=numbered)}],
            max_tokens=n * (max(self.model.count_tokens(label) for label in self.labels) + 4) + 8,
            json_schema=schema,
        )
        items, note = read_list(generation.text)
        if len(items) != n:
            why = note or f"the model gave {len(items)} labels for {n} texts"
            return [LLMPrediction(None, None, why) for _ in texts]
        out = []
        for item, (_, cut) in zip(items, fitted, strict=True):
            label = match_label(item, self.labels)
            out.append(LLMPrediction(label, None, cut if label else f"the model answered {item!r}, none of the labels"))
        return out
