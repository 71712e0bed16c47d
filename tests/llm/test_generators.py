"""The two LLM backends on a real model: SmolLM2-135M run by llama.cpp in this process, and the same
model behind llama.cpp's own OpenAI-compatible HTTP server (which xllamacpp opens on 127.0.0.1).

Two tiny HTTP servers below stand in for broken remote LLM servers (one too slow, one answering
garbage): they are outside the code under test, which is the client's handling of such servers.
"""

from __future__ import annotations

import http.server
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from textlens.errors import AssetError
from textlens.llm import LLMBadResponse, LLMError, LLMTimeout, LLMUnavailable, get_generator, locate, pull, spec
from textlens.llm.llamacpp import LlamaCppGenerator
from textlens.llm.openai_http import OpenAIGenerator
from textlens.tokens import get_tokenizer

pytest.importorskip("xllamacpp")
HELLO = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def smol() -> LlamaCppGenerator:
    return get_generator("smollm2-135m", threads=2)


@pytest.fixture(scope="module")
def remote(smol, monkeypatch_module) -> OpenAIGenerator:
    monkeypatch_module.setenv("TEXTLENS_TEST_LLM_KEY", smol.api_key)
    return OpenAIGenerator(smol.url, api_key_env="TEXTLENS_TEST_LLM_KEY", tokenizer=str(smol.path))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_same_seed_same_text_and_streaming_gives_the_same_pieces(smol):
    first = smol.generate(HELLO, max_tokens=24, seed=7)
    pieces: list[str] = []
    streamed = smol.generate(HELLO, max_tokens=24, seed=7, on_text=pieces.append)
    assert first.text and first.text == streamed.text == "".join(pieces)
    assert len(pieces) > 3  # streamed piece by piece, not at once
    assert streamed.timings.first_token is not None and streamed.timings.first_token <= streamed.timings.total
    assert first.usage.completion_tokens > 0 and first.usage.prompt_tokens > 0
    assert first.timings.tokens_per_second(first.usage.completion_tokens) > 0


def test_the_prompt_prefix_is_cached_between_calls(smol):
    smol.generate(HELLO, max_tokens=4)
    again = smol.generate(HELLO, max_tokens=4)
    assert again.usage.cached_tokens > 0


def test_max_tokens_and_stop_sequences(smol):
    cut = smol.generate(HELLO, max_tokens=3)
    assert cut.finish_reason == "length" and cut.usage.completion_tokens == 3
    counting = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    whole = smol.generate(counting, max_tokens=40).text
    assert "4" in whole
    stopped = smol.generate(counting, max_tokens=40, stop=["4"]).text
    assert "4" not in stopped and whole.startswith(stopped.rstrip())


def test_grammar_and_json_schema_bind_the_output(smol):
    answer = smol.generate(HELLO, max_tokens=8, grammar='root ::= "yes" | "no"')
    assert answer.text in ("yes", "no") and answer.constrained
    schema = {"type": "object", "properties": {"colour": {"enum": ["red", "green"]}}, "required": ["colour"]}
    import json

    data = json.loads(smol.generate(HELLO, max_tokens=24, json_schema=schema).text)
    assert data["colour"] in ("red", "green")


def test_top_logprobs_for_every_token_whole_or_streamed(smol):
    whole = smol.generate(HELLO, max_tokens=6, top_logprobs=3)
    assert whole.logprobs and len(whole.logprobs) == whole.usage.completion_tokens
    assert "".join(step.token for step in whole.logprobs) == whole.text
    for step in whole.logprobs:
        assert len(step.top) == 3 and step.logprob <= 0
        assert [lp for _, lp in step.top] == sorted((lp for _, lp in step.top), reverse=True)
        assert step.top[0] == (step.token, step.logprob)  # greedy: the written token is the likeliest
    streamed = smol.generate(HELLO, max_tokens=6, top_logprobs=3, on_text=lambda _t: None)
    assert [s.token for s in streamed.logprobs] == [s.token for s in whole.logprobs]
    assert smol.generate(HELLO, max_tokens=2).logprobs is None  # not asked for
    with pytest.raises(LLMError, match="top_logprobs must be between 1 and 20"):
        smol.generate(HELLO, max_tokens=2, top_logprobs=50)


def test_tokens_are_counted_by_the_models_own_vocabulary(smol):
    text = "Grounded answers cite their sources."
    assert smol.count_tokens(text) == len(get_tokenizer(str(smol.path)).encode(text))


def test_missing_bad_and_truncated_model_files(tmp_path: Path, smol):
    with pytest.raises(LLMUnavailable, match="does not exist"):
        LlamaCppGenerator(tmp_path / "nowhere.gguf")
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(LLMError, match="not a GGUF model"):
        LlamaCppGenerator(text)
    truncated = tmp_path / "truncated.gguf"
    with smol.path.open("rb") as src, truncated.open("wb") as out:
        out.write(src.read(2_000_000))
    with pytest.raises(LLMError, match="could not load") as err:
        LlamaCppGenerator(truncated)
    assert str(truncated) in err.value.message


def test_catalog_file_truncated_or_tampered_is_refused_with_the_fix(tmp_path, monkeypatch, smol):
    monkeypatch.setenv("TEXTLENS_MODELS", str(tmp_path / "models"))
    model = spec("smollm2-135m")
    target = tmp_path / "models" / model.file
    target.parent.mkdir()
    target.write_bytes(smol.path.read_bytes()[:1000])
    with pytest.raises(AssetError, match="truncated") as err:
        locate(model)
    assert "textlens models pull smollm2-135m" in err.value.hint
    listed = model.to_dict()  # `models list` shows it damaged instead of failing
    assert not listed["present"] and "truncated" in listed["problem"]
    shutil.copyfile(smol.path, target)
    with target.open("r+b") as fh:
        fh.seek(5_000_000)
        fh.write(b"\0" * 16)
    with pytest.raises(AssetError, match="sha256"):
        locate(model)
    assert pull(model) == target and locate(model) == target  # pull replaces the damaged copy


def test_openai_backend_against_llama_cpp_http_server(smol, remote):
    local = smol.generate(HELLO, max_tokens=16, seed=3)
    over_http = remote.generate(HELLO, max_tokens=16, seed=3)
    assert over_http.text == local.text
    pieces: list[str] = []
    streamed = remote.generate(HELLO, max_tokens=16, seed=3, on_text=pieces.append)
    assert "".join(pieces) == streamed.text == local.text
    assert streamed.usage.completion_tokens == 16 and streamed.timings.first_token is not None
    assert remote.generate(HELLO, max_tokens=8, grammar='root ::= "yes" | "no"').text in ("yes", "no")
    assert remote.constrains
    probed = remote.generate(HELLO, max_tokens=4, seed=3, top_logprobs=2)
    assert [s.token for s in probed.logprobs] == [
        s.token for s in smol.generate(HELLO, max_tokens=4, seed=3, top_logprobs=2).logprobs
    ]


def test_openai_backend_wrong_key_is_a_clear_error(smol, monkeypatch):
    monkeypatch.setenv("TEXTLENS_TEST_WRONG_KEY", "nope")
    with pytest.raises(LLMError, match="refused the API key") as err:
        OpenAIGenerator(smol.url, api_key_env="TEXTLENS_TEST_WRONG_KEY").generate(HELLO, max_tokens=2)
    assert "TEXTLENS_TEST_WRONG_KEY" in err.value.hint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_backend_server_down():
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        OpenAIGenerator(f"http://127.0.0.1:{_free_port()}/v1", timeout=5).generate(HELLO, max_tokens=2)


class _Broken(http.server.BaseHTTPRequestHandler):
    """Stands in for a misbehaving remote LLM server."""

    reply = b"{not json"
    delay = 0.0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def broken():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    _Broken.reply, _Broken.delay = b"{not json", 0.0


def test_openai_backend_malformed_slow_and_odd_replies(broken):
    url = f"http://127.0.0.1:{broken.server_address[1]}/v1"
    with pytest.raises(LLMBadResponse, match="not JSON"):
        OpenAIGenerator(url).generate(HELLO, max_tokens=2)
    _Broken.reply = b'{"choices": []}'
    with pytest.raises(LLMBadResponse, match="no choices"):
        OpenAIGenerator(url).generate(HELLO, max_tokens=2)
    _Broken.reply = b'{"choices": [{"message": {"content": ""}, "finish_reason": "stop"}]}'
    assert OpenAIGenerator(url).generate(HELLO, max_tokens=2).text == ""  # empty, not a crash
    _Broken.reply = b'{"choices": [{"message": {"content": "a"}, "logprobs": {"content": [{"logprob": -1}]}}]}'
    with pytest.raises(LLMBadResponse, match="entries need 'token'"):
        OpenAIGenerator(url).generate(HELLO, max_tokens=2, top_logprobs=1)
    _Broken.delay = 2.0
    with pytest.raises(LLMTimeout, match="did not answer within"):
        OpenAIGenerator(url, timeout=0.5).generate(HELLO, max_tokens=2)


def test_bad_names():
    with pytest.raises(LLMError, match="not an HTTP URL"):
        get_generator("openai:localhost:8080")
    with pytest.raises(LLMError, match=re.escape("hf:ORG/REPO/FILE.gguf")):
        get_generator("hf:just-a-name")
    with pytest.raises(LLMUnavailable, match="offline"):
        get_generator("hf:org/repo/model.gguf")
