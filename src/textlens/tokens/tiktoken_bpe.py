"""tiktoken BPE files (``.tiktoken``: base64 token, space, rank; one per line).

The ranks alone do not make a tokenizer: the split regex and the special tokens
come from the encoding's definition (:class:`TiktokenSpec`), which the registry
holds for GPT-2, GPT-4, GPT-4o and Llama 3.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import tiktoken

from textlens.errors import TokenizerError
from textlens.tokens.base import Tokenizer

# Regexes as the encodings define them (tiktoken_ext/openai_public.py; Llama 3's
# llama_models/llama3/tokenizer.py).
R50K_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def llama3_special_tokens(n_base: int = 128000) -> dict[str, int]:
    """Llama 3's 256 special tokens, numbered after the 128,000 ranks."""
    named = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",
        "<|finetune_right_pad_id|>",
        "<|step_id|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eom_id|>",
        "<|eot_id|>",
        "<|python_tag|>",
        "<|image|>",
    ]
    reserved = [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(named))]
    return {tok: n_base + i for i, tok in enumerate(named + reserved)}


@dataclass(frozen=True)
class TiktokenSpec:
    """What a ``.tiktoken`` file needs besides its ranks."""

    pattern: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    bos: str | None = None  # special token prepended by default (Llama 3)


def load_ranks(path: Path) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file, naming the line of the first bad record."""
    ranks: dict[bytes, int] = {}
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except ValueError as exc:
                raise TokenizerError(
                    f"{path}, line {lineno}: not a tiktoken rank record (expected 'BASE64 RANK'): {line[:60]!r}",
                    hint="The file is damaged or not a .tiktoken file; get a fresh copy.",
                ) from exc
    if not ranks:
        raise TokenizerError(
            f"{path} holds no ranks: the file is empty.", hint="Get a fresh copy of the .tiktoken file."
        )
    return ranks


class TiktokenTokenizer(Tokenizer):
    """A tokenizer run by OpenAI's ``tiktoken`` (Rust)."""

    format = "tiktoken"

    def __init__(self, path: Path, spec: TiktokenSpec, *, name: str, source: str) -> None:
        ranks = load_ranks(path)
        super().__init__(name=name, source=source, bos_ids=[spec.special_tokens[spec.bos]] if spec.bos else [])
        self._spec = spec
        self._enc = tiktoken.Encoding(
            name=name,
            pat_str=spec.pattern,
            mergeable_ranks=ranks,
            special_tokens=spec.special_tokens,
        )

    @property
    def engine(self) -> tiktoken.Encoding:
        """The underlying ``tiktoken.Encoding``."""
        return self._enc

    @property
    def vocab_size(self) -> int:
        return self._enc.n_vocab

    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        return self._with_specials(self._enc.encode(text, allowed_special="all"), add_special_tokens)

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = True, num_threads: int = 1
    ) -> list[list[int]]:
        out = self._enc.encode_batch(list(texts), num_threads=max(1, num_threads), allowed_special="all")
        return [self._with_specials(ids, add_special_tokens) for ids in out]

    def decode(self, ids: Sequence[int]) -> str:
        keep = [i for i in ids if i not in self.special_ids]
        return self._enc.decode(keep, errors="replace")

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self._spec.special_tokens.values())

    def _token_bytes_table(self) -> list[bytes]:
        table = [b""] * self.vocab_size
        for i in range(self.vocab_size):
            try:
                table[i] = self._enc.decode_single_token_bytes(i)
            except KeyError:  # a hole in the id space
                continue
        return table
