"""What ``ask`` returns: the answer, sentence by sentence, each with the passages it cites.

The shape follows Cohere's chat with documents: the answer text without citation
markers; for each sentence its ``start``/``end`` character offsets in that text and the
passages it cites, with where in each passage the support lies (``span``, offsets into
the passage text). :meth:`Answer.to_dict` is the one JSON shape of the CLI (``--json``)
and the REST API.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Passage:
    """A retrieved passage as the model saw it, numbered from 1 in the prompt."""

    number: int
    doc_id: str
    title: str
    text: str  # what the prompt held (shortened if ``cut``)
    score: float
    cut: bool = False  # shortened to fit the model's context


@dataclass
class Citation:
    """One passage cited by one sentence."""

    passage: int  # the number in the prompt
    doc_id: str
    title: str
    support: float  # share of the sentence's new words (those not in the question) found in the passage
    span: tuple[int, int] | None  # where in the passage text the support lies (its best sentence)
    quote: str  # the passage text at ``span``


@dataclass
class Claim:
    """A number a sentence states, with its unit, checked against the passages (:mod:`textlens.ask.claims`)."""

    text: str  # as written: "8,848.86 meters"
    status: str  # supported (a cited passage holds it), converted (the model's own conversion), unsupported
    passage: int | None  # the passage that holds it, or the number it was converted from
    note: str = ""  # why, for converted and unsupported claims


@dataclass
class Sentence:
    """One sentence of the answer."""

    text: str
    start: int  # character offsets in Answer.text
    end: int
    citations: list[Citation] = field(default_factory=list)
    supported: bool = False  # cites a passage that holds its words (the support threshold) and its numbers
    claims: list[Claim] = field(default_factory=list)  # its numbers, each checked; unsupported asides dropped


@dataclass
class Answer:
    """A grounded answer (or a reasoned refusal) to one question."""

    question: str
    text: str  # the answer without citation markers ("" when abstained)
    sentences: list[Sentence]
    passages: list[Passage]
    abstained: bool = False
    reason: str | None = None  # why it abstained
    abstention_probability: float | None = None  # how likely the model was to decline (None: not known)
    draft: str = ""  # what the model wrote, citation markers and all
    repairs: list[str] = field(default_factory=list)  # citation markers removed or changed, and why
    context: dict[str, Any] = field(default_factory=dict)  # token budget, used, passages cut or dropped
    model: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float | None] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def unsupported(self) -> list[Sentence]:
        """Sentences no cited passage supports."""
        return [s for s in self.sentences if not s.supported]

    def cited(self) -> list[Passage]:
        """The passages some sentence cites, in prompt order."""
        numbers = {c.passage for s in self.sentences for c in s.citations}
        return [p for p in self.passages if p.number in numbers]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for sentence in out["sentences"]:
            for citation in sentence["citations"]:
                citation["span"] = list(citation["span"]) if citation["span"] else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer :meth:`to_dict` gave (as the REST API sends it)."""

        def sentence(s: dict[str, Any]) -> Sentence:
            cites = [Citation(**{**c, "span": tuple(c["span"]) if c["span"] else None}) for c in s["citations"]]
            claims = [Claim(**c) for c in s.get("claims", [])]
            return Sentence(**{**s, "citations": cites, "claims": claims})

        passages = [Passage(**p) for p in data["passages"]]
        return cls(**{**data, "sentences": [sentence(s) for s in data["sentences"]], "passages": passages})

    def __str__(self) -> str:
        if self.abstained:
            return f"Not in the sources ({self.reason})."
        return " ".join(
            s.text
            + "".join(f" [{c.passage}]" for c in s.citations)
            + ("" if s.supported else " (unsupported)")
            + "".join(f" ({c.text}: {c.status})" for c in s.claims if c.status == "converted")
            + "".join(
                f" ({c.text}: not in the sources)" for c in s.claims if c.status == "unsupported" and c.text in s.text
            )
            for s in self.sentences
        )

    def _repr_html_(self) -> str:
        from textlens.html import LIGHT, page

        esc = html.escape
        if self.abstained:
            body = f"<p class='abstain'>Not in the sources: {esc(self.reason or '')}</p>"
        else:
            parts = []
            for s in self.sentences:
                marks = "".join(f"<sup title='{esc(c.quote)}'>[{c.passage}]</sup>" for c in s.citations)
                cls = "" if s.supported else " class='unsupported' title='no cited passage supports this'"
                parts.append(f"<span{cls}>{esc(s.text)}</span>{marks}")
            body = "<p>" + " ".join(parts) + "</p>"
        spans = {c.passage: c.span for s in self.sentences for c in s.citations if c.span}
        items = []
        for p in self.passages:
            text = esc(p.text)
            if p.number in spans:
                a, b = spans[p.number]
                text = esc(p.text[:a]) + "<mark>" + esc(p.text[a:b]) + "</mark>" + esc(p.text[b:])
            items.append(f"<li value='{p.number}'><b>{esc(p.title or p.doc_id)}</b> {text}</li>")
        return page(
            "textlens ask",
            [f"<h2>{esc(self.question)}</h2>", body, "<ol class='sources'>", *items, "</ol>"],
            css=f".unsupported{{text-decoration:underline wavy #c44}}.abstain{{font-style:italic}}"
            f"sup{{cursor:help}}mark{{background:{LIGHT[0]}}}",
        )
