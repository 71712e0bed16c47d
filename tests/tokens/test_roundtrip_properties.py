"""Hypothesis round trips: lossless tokenizers give the text back exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textlens.tokens import get_tokenizer
from textlens.tokens.analysis import segments

# Byte-level BPE tokenizers whose vocabulary holds all 256 bytes encode any text without loss.
# qwen3 applies NFC and claude-legacy NFKC: lossless up to that normalisation (tested below).
LOSSLESS = ["gpt2", "gpt-4", "gpt-4o", "llama-3"]
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200).filter(lambda s: "<" not in s)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=texts)
def test_byte_level_tokenizers_are_lossless(text: str, shared_tokenizers) -> None:
    for name in LOSSLESS:
        tok = get_tokenizer(name)
        assert tok.decode(tok.encode(text)) == text, name


@SETTINGS
@given(text=texts)
def test_normalising_tokenizers_are_lossless_up_to_their_normal_form(text: str, shared_tokenizers) -> None:
    import unicodedata

    for name, form in [("qwen3", "NFC"), ("claude-legacy", "NFKC")]:
        tok = get_tokenizer(name)
        assert tok.decode(tok.encode(text)) == unicodedata.normalize(form, text), name


@SETTINGS
@given(text=texts)
def test_segments_rebuild_the_text(text: str, shared_tokenizers) -> None:
    """Segments join split characters, so their texts concatenate to the input."""
    for name in ["gpt-4", "gpt-4o", "qwen3"]:
        tok = get_tokenizer(name)
        segs = segments(tok, tok.encode(text))
        assert "".join(s.text for s in segs) == text, name
        assert all("\ufffd" not in s.text for s in segs)


@SETTINGS
@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=100))
def test_sentencepiece_byte_fallback_is_lossless_on_text_without_spaces(text: str, shared_tokenizers) -> None:
    """Llama 2 and Mistral fall back to bytes for unseen characters, so nothing is lost."""
    text = text.replace("<", "")
    for name in ["llama-2", "mistral-v0.3", "phi-3"]:
        tok = get_tokenizer(name)
        assert tok.decode(tok.encode(text)) == text, name


def test_byte_level_vocabularies_with_missing_bytes_lose_text(shared_tokenizers) -> None:
    """StarCoder2 has no token for byte 0xF1 and Falcon none for 0x03: the round trip says so."""
    from textlens.tokens.analysis import analyze

    for name, text in [("starcoder2", "a\U00040000b"), ("falcon", "a\x03b")]:
        report = analyze(get_tokenizer(name), text)
        assert not report.roundtrip.lossless
        assert report.roundtrip.losses == {"unknown": 1}, name


def test_user_defined_tokens_decode_as_their_text(shared_tokenizers) -> None:
    """DeepSeek's GGUF vocabularies give some letters (ü, õ, ÷...) user-defined tokens of their own: encoded whole,
    and decoded as the letters (llama.cpp renders user-defined tokens as text), never dropped as special tokens."""
    for name in ("deepseek-coder", "deepseek-llm"):
        tok = get_tokenizer(name)
        text = "Grüße, señor: õ ÷ ý ÿ ø ú þ ù ö û À Á"
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.decode(ids) == text, name
        u = tok.encode("ü", add_special_tokens=False)
        assert len(u) == 1 and u[0] not in tok.special_ids and tok.token_bytes[u[0]] == "ü".encode()
