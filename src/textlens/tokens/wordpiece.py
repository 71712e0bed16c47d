"""WordPiece ``vocab.txt`` files (BERT and its relatives), one piece per line.

Built as the Rust ``tokenizers`` BERT pipeline: BERT normalizer (clean text,
split CJK ideographs, lowercase and strip accents for uncased vocabularies),
BERT pre-tokenizer, WordPiece with ``##`` continuations, ``[CLS] ... [SEP]``.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer as _HFTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

from textlens.errors import TokenizerError
from textlens.tokens.hf_json import HFTokenizer

REQUIRED = ("[UNK]", "[CLS]", "[SEP]")


def read_vocab(path: Path) -> dict[str, int]:
    """Read a vocab.txt: the id of a piece is its line number, from 0."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TokenizerError(
            f"{path}: byte {exc.start} is not UTF-8; a WordPiece vocab.txt is UTF-8 text.",
            hint="Get a fresh copy of the vocab file.",
        ) from exc
    vocab: dict[str, int] = {}
    for i, piece in enumerate(lines):
        vocab.setdefault(piece, i)
    missing = [t for t in REQUIRED if t not in vocab]
    if missing:
        raise TokenizerError(
            f"{path} lacks the special pieces {', '.join(missing)} ({len(lines)} lines read); "
            "it is not a BERT WordPiece vocab.txt, or it is truncated.",
            hint="Get a fresh copy of the vocab file.",
        )
    return vocab


def load_wordpiece(path: Path, *, name: str, source: str, lowercase: bool | None = None) -> HFTokenizer:
    """Build a BERT tokenizer from ``vocab.txt``.

    Args:
        lowercase: lowercase and strip accents (uncased models). ``None`` decides
            from the vocabulary: uncased when it holds no capitalised word pieces.
    """
    vocab = read_vocab(path)
    if lowercase is None:
        lowercase = not any(p[:1].isupper() for p in vocab if not p.startswith("["))
    tok = _HFTokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=lowercase
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = [p for p in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") if p in vocab]
    tok.add_special_tokens(specials)
    tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    return HFTokenizer(tok, name=name, format="wordpiece-vocab", source=source, piece_style="wordpiece")
