"""Hugging Face ``tokenizer.json`` files, and the engine shared by every format
that is built on the ``tokenizers`` library (WordPiece vocab, GGUF vocab).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from tokenizers import Tokenizer as _HFTokenizer

from textlens.errors import TokenizerError
from textlens.tokens.base import Tokenizer

PieceStyle = Literal["byte_level", "metaspace", "wordpiece"]
_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def byte_level_alphabet() -> dict[str, int]:
    """GPT-2's map from printable stand-in characters back to bytes.

    Byte-level BPE (GPT-2, RoBERTa, Llama 3 in HF form) writes every byte as a
    printable character: printable Latin-1 bytes stand for themselves, the rest
    are shifted to code points 256 and up (so a space becomes ``Ġ``).
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars, shift = {}, 0
    for byte in range(256):
        if byte in keep:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + shift)] = byte
            shift += 1
    return chars


def piece_bytes(piece: str, style: PieceStyle) -> bytes:
    """The bytes a vocabulary piece stands for, given how the vocabulary writes them."""
    if style == "byte_level":
        table = byte_level_alphabet()
        if all(ch in table for ch in piece):
            return bytes(table[ch] for ch in piece)
        return piece.encode("utf-8")
    if style == "metaspace":
        match = _BYTE_PIECE.match(piece)
        if match:
            return bytes([int(match.group(1), 16)])
        return piece.replace("\u2581", " ").encode("utf-8")
    return (piece[2:] if piece.startswith("##") else piece).encode("utf-8")


class HFTokenizer(Tokenizer):
    """A tokenizer run by the Rust ``tokenizers`` engine."""

    def __init__(
        self,
        tokenizer: _HFTokenizer,
        *,
        name: str,
        format: str,
        source: str,
        piece_style: PieceStyle,
    ) -> None:
        super().__init__(name=name, source=source)
        self._tok = tokenizer
        self.format = format
        self.piece_style = piece_style

    @property
    def engine(self) -> _HFTokenizer:
        """The underlying ``tokenizers.Tokenizer``."""
        return self._tok

    @cached_property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        return self._tok.encode(text, add_special_tokens=add_special_tokens).ids

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = True, num_threads: int = 1
    ) -> list[list[int]]:
        texts = list(texts)
        if num_threads <= 1:
            return [self.encode(t, add_special_tokens=add_special_tokens) for t in texts]
        # tokenizers runs encode_batch on its own Rayon pool (RAYON_NUM_THREADS).
        out = self._tok.encode_batch_fast(texts, add_special_tokens=add_special_tokens)
        return [e.ids for e in out]

    def decode(self, ids: Sequence[int]) -> str:
        if self._decode_bytes:
            table, special = self.token_bytes, self.special_ids
            data = b"".join(table[i] for i in ids if i not in special and 0 <= i < len(table))
            return data.decode("utf-8", "replace")
        return self._tok.decode(list(ids), skip_special_tokens=True)

    @cached_property
    def _decode_bytes(self) -> bool:
        """Whether to decode by joining the tokens' bytes: a byte-level vocabulary with plain (not special) added
        tokens written as raw text, such as DeepSeek's ``ü``, which the engine's byte-level decoder would read
        as byte symbols and garble. Joining bytes is exact for byte-level BPE."""
        if self.piece_style != "byte_level":
            return False
        added = self._tok.get_added_tokens_decoder().values()
        return any(not t.special and not t.content.isascii() for t in added)

    def token_spans(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self._tok.encode(text, add_special_tokens=False)
        return enc.ids, [tuple(o) for o in enc.offsets]

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(i for i, tok in self._tok.get_added_tokens_decoder().items() if tok.special)

    @cached_property
    def unk_id(self) -> int | None:
        model = json.loads(self._tok.model.__getstate__())
        unk = model.get("unk_token") if isinstance(model, dict) else None
        if unk is None and isinstance(model.get("unk_id"), int):
            return model["unk_id"]
        return self._tok.token_to_id(unk) if unk else None

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        if self.piece_style != "metaspace":
            return frozenset()
        vocab = self._tok.get_vocab(with_added_tokens=False)
        return frozenset(i for piece, i in vocab.items() if _BYTE_PIECE.match(piece))

    def _token_bytes_table(self) -> list[bytes]:
        table = [b""] * self.vocab_size
        added = self._tok.get_added_tokens_decoder()
        for piece, i in self._tok.get_vocab(with_added_tokens=True).items():
            if i >= len(table):
                table.extend([b""] * (i + 1 - len(table)))
            table[i] = added[i].content.encode("utf-8") if i in added else piece_bytes(piece, self.piece_style)
        return table


def _piece_style(tok: _HFTokenizer) -> PieceStyle:
    """Tell how a tokenizer's vocabulary writes bytes, from its pipeline."""
    if type(tok.model).__name__ == "WordPiece":
        return "wordpiece"
    parts = [c.__getstate__() for c in (tok.pre_tokenizer, tok.decoder, tok.normalizer) if c is not None]
    if any(b'"ByteLevel"' in (p if isinstance(p, bytes) else str(p).encode()) for p in parts):
        return "byte_level"
    return "metaspace"


def load_tokenizer_json(path: Path, *, name: str, source: str) -> HFTokenizer:
    """Load a Hugging Face ``tokenizer.json``.

    Raises:
        TokenizerError: the file is not valid JSON or not a tokenizer definition.
    """
    try:
        tok = _HFTokenizer.from_str(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenizerError(
            f"{path} is not a valid Hugging Face tokenizer.json: {exc}",
            hint="Check that the file is complete (not truncated) and is a tokenizer.json, "
            "not a tokenizer_config.json.",
        ) from exc
    except Exception as exc:  # the Rust engine raises plain Exception on a bad spec
        raise TokenizerError(
            f"{path} could not be parsed by the tokenizers library: {exc}",
            hint="Upgrade `tokenizers`, or check that the file is a tokenizer.json.",
        ) from exc
    return HFTokenizer(tok, name=name, format="hf-tokenizer-json", source=source, piece_style=_piece_style(tok))
