"""The :class:`Tokenizer` interface every format implements.

A tokenizer here is a *trained* tokenizer as a model uses it: ``encode`` gives the
ids the model sees, with the model's own special tokens added the way Hugging
Face ``tokenizer(text).input_ids`` adds them by default (BOS for Llama, Mistral
and Phi-3, ``[CLS]``/``[SEP]`` for BERT, nothing for the GPT family).
Special-token strings written in the text (``<|endoftext|>``, ``<s>``) are
parsed as special tokens, as Hugging Face tokenizers do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property


class Tokenizer(ABC):
    """A trained tokenizer: text to ids and back, plus what each id stands for.

    Subclasses set ``format``, call ``super().__init__(name=..., source=...)`` (with the ids
    prepended by default, ``bos_ids``) and implement the abstract methods. ``encode_batch``
    should use the engine's native batching (threads in Rust or C++), never a Python loop per text.
    """

    format: str

    def __init__(self, *, name: str, source: str, bos_ids: Sequence[int] = ()) -> None:
        self.name = name
        self.source = source
        self.bos_ids = list(bos_ids)

    def _with_specials(self, ids: list[int], add_special_tokens: bool) -> list[int]:
        """``ids`` with the BOS ids in front when special tokens are wanted."""
        return self.bos_ids + ids if add_special_tokens and self.bos_ids else ids

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of ids, special tokens included."""

    @abstractmethod
    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        """Ids of ``text``, with the model's special tokens unless told not to."""

    @abstractmethod
    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = True, num_threads: int = 1
    ) -> list[list[int]]:
        """Ids of many texts at once, using ``num_threads`` native threads."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens dropped (``skip_special_tokens``)."""

    @abstractmethod
    def _token_bytes_table(self) -> list[bytes]:
        """The raw bytes each id stands for, indexed by id."""

    @property
    @abstractmethod
    def special_ids(self) -> frozenset[int]:
        """Ids of control tokens (BOS, EOS, [CLS], ``<|endoftext|>``...)."""

    @property
    def unk_id(self) -> int | None:
        """Id of the unknown token, if the vocabulary has one."""
        return None

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        """Ids of SentencePiece-style byte tokens (``<0x41>``)."""
        return frozenset()

    @cached_property
    def token_bytes(self) -> list[bytes]:
        """Bytes per id (for display and byte statistics), built once."""
        return self._token_bytes_table()

    def token_spans(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Content ids of ``text`` and the character span of each in ``text``.

        The default maps the tokens' bytes back onto the text, which is exact for
        tokenizers that do not normalise (tiktoken, byte-level BPE). Engines that
        normalise override it with their own offsets.
        """
        ids = self.encode(text, add_special_tokens=False)
        char_at = _byte_to_char(text)
        spans, pos = [], 0
        for i in ids:
            end = min(pos + len(self.token_bytes[i]), len(char_at) - 1)
            spans.append((char_at[pos], char_at[end]))
            pos = end
        return ids, spans

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.format}, {self.vocab_size} ids)>"


def _byte_to_char(text: str) -> list[int]:
    """For each UTF-8 byte offset of ``text`` (and its end), the character offset."""
    out: list[int] = []
    for n, ch in enumerate(text):
        out.extend([n] * len(ch.encode("utf-8")))
    out.append(len(text))
    return out
