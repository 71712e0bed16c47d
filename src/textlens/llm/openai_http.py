"""Any OpenAI-compatible chat endpoint: OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio.

``POST {base_url}/chat/completions``, streamed as server-sent events when asked. The
API key is read from an environment variable (``OPENAI_API_KEY`` by default), never
from the command line. llama.cpp's ``grammar`` field is sent when a grammar is given;
a server that refuses it (OpenAI itself) is asked again without, and from then on the
generator reports ``constrains = False`` so callers validate what comes back instead.
Prompt caching is the server's business (``cache_prompt`` is not sent: OpenAI refuses
fields it does not know).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from textlens.errors import MissingDependency
from textlens.llm.base import (
    Completion,
    Generation,
    LLMBadResponse,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    Message,
    OnText,
    chat_request,
)


class OpenAIGenerator:
    """A chat model behind an OpenAI-compatible HTTP API.

    Args:
        base_url: the API root, ending in ``/v1`` (``http://127.0.0.1:11434/v1`` for Ollama).
        model: the model name the server knows (``"default"`` suits single-model servers).
        api_key_env: the environment variable that holds the API key (unset: no key is sent).
        timeout: seconds to wait for the server (connect, and between streamed pieces).
        context_size: tokens of prompt plus completion the server's model takes.
        tokenizer: a textlens tokenizer name that counts like the server's model does
            (default ``gpt-4o``; name the model's own, such as ``qwen2.5``, for exact counts).
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        context_size: int = 8192,
        tokenizer: str = "gpt-4o",
    ) -> None:
        try:
            import httpx
        except ImportError as exc:
            raise MissingDependency(
                "httpx is needed for OpenAI-compatible endpoints", hint="pip install 'textlens[llm]'"
            ) from exc
        if not base_url.startswith(("http://", "https://")):
            raise LLMError(
                f"not an HTTP URL: {base_url!r}", hint="Write it as openai:http://HOST:PORT/v1 (the API root)."
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{self.base_url}#{model}"
        self.context_size = context_size
        self.constrains = True  # until the server refuses a grammar
        self.timeout = timeout
        self.tokenizer_name = tokenizer
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._api_key_env = api_key_env
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self._httpx = httpx

    def count_tokens(self, text: str) -> int:
        from textlens.tokens import get_tokenizer

        return len(get_tokenizer(self.tokenizer_name).encode(text))

    def close(self) -> None:
        self._client.close()

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
        if not self.constrains:
            grammar = json_schema = None
        body = chat_request(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            stop=stop,
            grammar=grammar,
            json_schema=json_schema,
            stream=on_text is not None,
            top_logprobs=top_logprobs,
        )
        body["model"] = self.model
        try:
            return self._post(body, on_text)
        except _RefusedConstraint:
            self.constrains = False
            body.pop("grammar", None)
            body.pop("response_format", None)
            return self._post(body, on_text)

    def _post(self, body: dict[str, Any], on_text: OnText | None) -> Generation:
        httpx = self._httpx
        started = time.perf_counter()
        constrained = "grammar" in body or "response_format" in body
        completion = Completion(self.model, self.base_url, on_text, started, constrained)
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    self._refuse(response, body)
                if body["stream"]:
                    for data in self._events(response):
                        completion.chunk(data, time.perf_counter())
                else:
                    completion.whole(self._json(response.read()))
        except httpx.TimeoutException as exc:
            raise LLMTimeout(
                f"{self.base_url} did not answer within {self.timeout:g} s",
                hint="Raise the timeout (--llm-timeout), or check that the server is not overloaded.",
                api_hint="Raise the generator's timeout, or check that the server is not overloaded.",
            ) from exc
        except httpx.TransportError as exc:
            raise LLMUnavailable(
                f"cannot reach the LLM server at {self.base_url}: {type(exc).__name__}: {exc}",
                hint="Start the server (ollama serve, vllm serve, llama-server) or correct the URL.",
            ) from exc
        return completion.result(time.perf_counter())

    def _json(self, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise LLMBadResponse(
                f"{self.base_url} answered with something that is not JSON: {raw[:200]!r}",
                hint="Check that the URL is the API root of an OpenAI-compatible server (it usually ends in /v1).",
            ) from None

    def _events(self, response: Any):
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue  # comments, event names, keep-alives
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            yield self._json(payload.encode())

    def _refuse(self, response: Any, body: dict[str, Any]) -> None:
        text = response.text
        try:
            message = json.loads(text).get("error", text)
            message = message.get("message", message) if isinstance(message, dict) else message
        except (ValueError, AttributeError):
            message = text
        constrained = "grammar" in body or "response_format" in body
        words = ("grammar", "response_format", "json_schema")
        if response.status_code == 400 and constrained and any(w in str(message).lower() for w in words):
            raise _RefusedConstraint
        if response.status_code in (401, 403):
            raise LLMError(
                f"{self.base_url} refused the API key ({response.status_code}): {message}",
                hint=f"Put the key in the environment variable {self._api_key_env}.",
            )
        if response.status_code == 404:
            raise LLMError(
                f"{self.base_url}/chat/completions: 404 {message}",
                hint="Check the model name and that the URL is the API root (it usually ends in /v1).",
            )
        if response.status_code >= 500:
            raise LLMUnavailable(f"the LLM server at {self.base_url} failed ({response.status_code}): {message}")
        raise LLMError(f"the LLM server at {self.base_url} refused the request ({response.status_code}): {message}")


class _RefusedConstraint(Exception):
    """The server does not take llama.cpp's grammar or a JSON schema."""
