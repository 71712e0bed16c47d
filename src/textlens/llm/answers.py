"""Reading what a chat model wrote when it was asked for a list or a label: refusals, tags,
numbering and code fences are recognised in code, never trusted to the prompt.

Used by LLM keywords, topic labels and classification. Each reader returns what it found and,
when it found nothing usable, a note saying why (the note is shown to the user; nothing the
model wrote is passed on as a result unless it parsed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import regex

from textlens.errors import InputError

# An answer that opens like this is a refusal or an apology, not a result.
_REFUSAL = regex.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry\b|i can(?:no|')t|i cannot|i'?m unable|i am unable|i'?m not able|"
    r"as an ai|unfortunately|i apologi[sz]e|i won'?t|i will not)",
    regex.IGNORECASE,
)
_FENCE = regex.compile(r"^```\w*\s*|\s*```\s*$")
_TAG = regex.compile(r"</?[A-Za-z_][\w-]*>|\[/?[A-Z_]{2,}\]")  # <keywords>, </s>, [KEYWORDS], [/INST]
_BULLET = regex.compile(r"^\s*(?:[-*•·]+|\(?\d{1,3}[.):]|[a-z][.)])\s+")
_EDGE = regex.compile(r"^[\s\"'“”‘’`*_#:;,.]+|[\s\"'“”‘’`*_#:;,.!?]+$")
_PREFIX = regex.compile(r"^\s*(?:keywords?|keyphrases?|key phrases?|tags?|topics?|labels?|answer)\s*:\s*", regex.I)


def refusal(text: str) -> bool:
    """Whether ``text`` opens as a refusal or apology ("I'm sorry, but...", "As an AI...")."""
    return bool(_REFUSAL.match(_TAG.sub("", text)))


def clean_item(item: str) -> str:
    """One list item without tags, bullets, numbering, surrounding quotes or trailing punctuation."""
    item = _TAG.sub(" ", item)
    item = _BULLET.sub("", item)
    item = _PREFIX.sub("", item)
    return " ".join(_EDGE.sub("", item).split())


def read_list(answer: str) -> tuple[list[str], str | None]:
    """The items of a list the model was asked for, and a note when there are none.

    Accepts a JSON array (of strings, or of objects with one text field), a JSON object holding
    one array, a bracketed list inside other text, or one item per line / comma; items are
    cleaned (:func:`clean_item`). A refusal, an empty answer or text with no list yields ``[]``
    and a note quoting the start of the answer.
    """
    text = _FENCE.sub("", answer.strip())
    quoted = " ".join(text.split())[:120]
    if not text:
        return [], "the model's answer was empty"
    if refusal(text):
        return [], f"the model refused: {quoted!r}"
    items = _json_items(text)
    if items is None:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) == 1:
            lines = lines[0].split(",") if "," in lines[0] or ";" not in lines[0] else lines[0].split(";")
        items = lines
    out = [c for c in (clean_item(str(i)) for i in items) if c]
    if not out:
        return [], f"the model's answer held no list: {quoted!r}"
    if all(refusal(i) for i in out):
        return [], f"the model refused: {quoted!r}"
    return out, None


def _json_items(text: str) -> list[Any] | None:
    for candidate in (text, *(m.group() for m in regex.finditer(r"\[(?:[^\[\]]|(?R))*\]", text))):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if isinstance(data, list):
            return [_text_of(x) for x in data if _text_of(x)]
    return None


def _text_of(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        texts = [v for v in x.values() if isinstance(v, str)]
        return texts[0] if texts else ""
    return str(x) if isinstance(x, int | float) else ""


def normalise_label(label: str) -> str:
    """How labels are compared: case-folded, punctuation and spacing ignored."""
    return " ".join(regex.sub(r"[\p{P}\p{S}_]+", " ", label.casefold()).split())


def distinct_labels(labels: Sequence[str], what: str = "labels") -> list[str]:
    """``labels`` stripped, checked to be non-empty and distinct after :func:`normalise_label`."""
    out = [label.strip() for label in labels]
    if len(out) < 2:
        raise InputError(f"give at least two {what} (got {len(out)})", hint='E.g. --labels "positive,negative".')
    seen: dict[str, str] = {}
    for label in out:
        key = normalise_label(label)
        if not key:
            raise InputError(f"{what}: {label!r} is empty without its punctuation and spaces", hint="Name each label.")
        if key in seen:
            raise InputError(
                f"{what} {seen[key]!r} and {label!r} are the same label once case, spaces and punctuation are ignored",
                hint="Give labels that differ in their words.",
            )
        seen[key] = label
    return out


def match_label(answer: str, labels: Sequence[str]) -> str | None:
    """The label ``answer`` names: equal after normalisation, or the only label it starts with."""
    said = normalise_label(clean_item(answer))
    keys = {normalise_label(label): label for label in labels}
    if said in keys:
        return keys[said]
    starts = [label for key, label in keys.items() if said.startswith(key + " ") or said.startswith(key)]
    return starts[0] if len(starts) == 1 else None
