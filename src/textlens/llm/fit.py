"""Fitting text into a model's context: how many tokens a prompt leaves for it, and the text cut
into parts that fit (at sentence, line or word ends)."""

from __future__ import annotations

from textlens.errors import InputError
from textlens.llm.base import Generator

SMALLEST = 16  # fewer tokens than this left for the text: the prompt itself is the problem


def room_for(model: Generator, template: str, reserve: int, hint: str) -> int:
    """Tokens of ``model``'s context left for text once ``template`` (the prompt without the text)
    and ``reserve`` (the answer) are in; an :class:`InputError` with ``hint`` when too few."""
    room = model.context_size - model.count_tokens(template) - reserve
    if room < SMALLEST:
        raise InputError(f"the model's context ({model.context_size} tokens) leaves no room for the text", hint=hint)
    return room


def split_to_fit(model: Generator, text: str, room: int) -> list[str]:
    """``[text]`` when it fits in ``room`` tokens, else its parts, each cut at the last sentence or
    line end (else word end) in its second half, sized by the text's characters per token."""
    total = model.count_tokens(text)
    if total <= room:
        return [text]
    size = max(50, int(len(text) * room / total * 0.9))  # characters per part, with a margin
    parts, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(". ", start, end), text.rfind("\n", start, end))
            if cut <= start + size // 2:
                cut = text.rfind(" ", start, end)
            end = cut + 1 if cut > start + size // 2 else end
        parts.append(text[start:end])
        start = end
    return parts
