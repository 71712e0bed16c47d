"""A GGUF model run in this process by llama.cpp (the ``xllamacpp`` wheel: no compile step).

llama.cpp keeps the key/value cache of the last prompt, so a call whose prompt starts
like the previous one (the same instructions and passages) reads only the new tokens
(``Usage.cached_tokens`` says how many were reused).

xllamacpp also opens llama.cpp's HTTP server on 127.0.0.1 (a free port); textlens locks
it with a random API key, so only code that holds :attr:`LlamaCppGenerator.api_key`
can use it (the tests point the OpenAI-compatible backend at it that way).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textlens.errors import MissingDependency
from textlens.llm.base import Completion, Generation, LLMError, LLMUnavailable, Message, OnText, chat_request

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> Path:
    """``path`` if it is a readable file that starts like a GGUF model, else an error naming it."""
    if not path.is_file():
        raise LLMUnavailable(
            f"model file {path} does not exist",
            hint="Give the path of a .gguf file, or a catalog name (textlens models list).",
        )
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != GGUF_MAGIC:
        raise LLMError(
            f"{path} is not a GGUF model (it starts with {head!r}, not {GGUF_MAGIC!r})",
            hint="Convert the model to GGUF (llama.cpp's convert_hf_to_gguf.py) or pick another file.",
        )
    return path


class LlamaCppGenerator:
    """A local GGUF chat model.

    Args:
        path: the ``.gguf`` file.
        name: what results call it (default: the file name).
        context_size: tokens of prompt plus completion (llama.cpp's ``n_ctx``).
        threads: CPU threads (default: every core).
    """

    constrains = True

    def __init__(
        self, path: str | Path, *, name: str | None = None, context_size: int = 4096, threads: int | None = None
    ) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise MissingDependency(
                "the local LLM runtime (xllamacpp) is not installed", hint="pip install 'textlens[llm]'"
            ) from exc
        self.path = check_gguf(Path(path).expanduser())
        self.name = name or self.path.name
        self.context_size = context_size
        self.threads = threads or os.cpu_count() or 1
        self.api_key = secrets.token_urlsafe(24)
        params = xllamacpp.CommonParams()
        params.model.path = str(self.path)
        params.n_ctx = context_size
        params.n_parallel = 1
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.api_keys = [self.api_key]
        params.verbosity = -1
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # llama.cpp reports a bad file as a bare RuntimeError
            raise LLMError(
                f"llama.cpp could not load {self.path}: {exc}. The file is truncated, corrupt or not a model "
                "llama.cpp knows.",
                hint="Pull it again (textlens models pull NAME) or check the file against its source.",
            ) from exc
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The OpenAI-compatible endpoint of this model (``/v1``), locked by :attr:`api_key`."""
        return self._server.listening_address.rstrip("/") + "/v1"

    def count_tokens(self, text: str) -> int:
        """Tokens by the model's own vocabulary (textlens reads it from the GGUF file)."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                from textlens.tokens import get_tokenizer

                self._tokenizer = get_tokenizer(str(self.path))
        return len(self._tokenizer.encode(text))

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        json_schema: dict[str, Any] | None = None,
        on_text: OnText | None = None,
        cache_prompt: bool = True,
        top_logprobs: int = 0,
    ) -> Generation:
        stream = on_text is not None
        body = chat_request(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            stop=stop,
            grammar=grammar,
            json_schema=json_schema,
            stream=stream,
            top_logprobs=top_logprobs,
        )
        body["cache_prompt"] = cache_prompt
        started = time.perf_counter()
        constrained = grammar is not None or json_schema is not None
        completion = Completion(self.name, f"llama.cpp ({self.name})", on_text, started, constrained)
        if stream:
            failure: list[BaseException] = []

            def chunk(data: Any) -> None:
                if failure:
                    return
                try:
                    completion.chunk(data, time.perf_counter())
                except BaseException as exc:  # raised again below, outside llama.cpp's callback
                    failure.append(exc)

            self._server.handle_chat_completions(body, chunk)
            if failure:
                raise failure[0]
        else:
            completion.whole(self._server.handle_chat_completions(body))
        return completion.result(time.perf_counter())
