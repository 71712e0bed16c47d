"""SentencePiece ``.model`` files (Llama 2, Mistral v0.1/v0.3).

Run by Google's ``sentencepiece`` library. As Hugging Face's fast tokenizers do,
control-token strings written in the text (``<s>``, ``</s>``, ``[INST]``) are
parsed as those tokens; the text between them is encoded by SentencePiece.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import sentencepiece as spm

from textlens.errors import TokenizerError
from textlens.tokens.base import Tokenizer

_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


class SentencePieceTokenizer(Tokenizer):
    """A SentencePiece model, with BOS added by default as Llama and Mistral do."""

    format = "sentencepiece"

    def __init__(self, path: Path, *, name: str, source: str, add_bos: bool = True) -> None:
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(path.read_bytes())
        except (RuntimeError, OSError) as exc:
            raise TokenizerError(
                f"{path} is not a valid SentencePiece model: {exc}",
                hint="The file is damaged, truncated or not a .model file; get a fresh copy.",
            ) from exc
        super().__init__(
            name=name, source=source, bos_ids=[self._sp.bos_id()] if add_bos and self._sp.bos_id() >= 0 else []
        )
        controls = sorted((self._sp.id_to_piece(i) for i in self.special_ids), key=len, reverse=True)
        self._split = re.compile("(" + "|".join(map(re.escape, controls)) + ")") if controls else None

    @property
    def engine(self) -> spm.SentencePieceProcessor:
        """The underlying ``SentencePieceProcessor``."""
        return self._sp

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def _encode_parts(self, text: str) -> list[int]:
        if self._split is None or not self._split.search(text):
            return self._sp.encode(text)
        ids: list[int] = []
        for k, part in enumerate(self._split.split(text)):
            if k % 2:
                ids.append(self._sp.piece_to_id(part))
            elif part:
                ids.extend(self._sp.encode(part))
        return ids

    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        return self._with_specials(self._encode_parts(text), add_special_tokens)

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = True, num_threads: int = 1
    ) -> list[list[int]]:
        texts = list(texts)
        if self._split is not None and self._split.search("\n".join(texts)):
            return [self.encode(t, add_special_tokens=add_special_tokens) for t in texts]
        out = self._sp.encode(texts, num_threads=max(1, num_threads))
        return [self._with_specials(ids, add_special_tokens) for ids in out]

    def token_spans(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        # The pieces spell " " + text (SentencePiece's dummy prefix): start one byte early.
        from textlens.tokens.base import _byte_to_char

        ids = self.encode(text, add_special_tokens=False)
        table, char_at = self.token_bytes, _byte_to_char(text)
        pos = len(text.encode("utf-8")) - sum(len(table[i]) for i in ids)
        spans = []
        for i in ids:
            end = pos + len(table[i])
            spans.append((char_at[min(max(pos, 0), len(char_at) - 1)], char_at[min(max(end, 0), len(char_at) - 1)]))
            pos = end
        return ids, spans

    def decode(self, ids: Sequence[int]) -> str:
        return self._sp.decode([i for i in ids if i not in self.special_ids])

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(i for i in range(self.vocab_size) if self._sp.is_control(i))

    @property
    def unk_id(self) -> int | None:
        unk = self._sp.unk_id()
        return unk if unk >= 0 else None

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        return frozenset(i for i in range(self.vocab_size) if self._sp.is_byte(i))

    def _token_bytes_table(self) -> list[bytes]:
        table = []
        for i in range(self.vocab_size):
            piece = self._sp.id_to_piece(i)
            match = _BYTE_PIECE.match(piece) if self._sp.is_byte(i) else None
            table.append(bytes([int(match.group(1), 16)]) if match else piece.replace("\u2581", " ").encode("utf-8"))
        return table
