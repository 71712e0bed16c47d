"""The :class:`Generator` protocol every LLM backend implements, and what it returns.

Chat messages in; text, token usage and timings out. ``on_text`` receives the
answer as it streams (one call per piece of text). ``grammar`` (GBNF) or
``json_schema`` constrain what the model may write, where the backend allows it
(:attr:`Generator.constrains` says whether it does). ``top_logprobs=N`` asks for the N likeliest
tokens at each step of the completion, with their log-probabilities, where the backend gives them
(llama.cpp and OpenAI do; :attr:`Generation.logprobs` is ``None`` where it did not). The prompt
prefix shared with the previous call is reused where the backend keeps it (llama.cpp does), unless the
caller asks for a fresh read (``cache_prompt=False``) to get bit-identical outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from textlens.errors import TextlensError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
OnText = Callable[[str], None]


class LLMError(TextlensError):
    """An LLM backend failed: a model that does not load, a server that is down or answers nonsense."""


class LLMUnavailable(LLMError):
    """The model or server cannot be reached or loaded now (REST: 503)."""


class LLMTimeout(LLMError):
    """The server took longer than the timeout (REST: 504)."""


class LLMBadResponse(LLMError):
    """The server answered with something that is not an OpenAI-compatible reply (REST: 502)."""


@dataclass
class Usage:
    """Tokens counted by the backend."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens reused from the cache of an earlier call


@dataclass
class Timings:
    """Where the time went, in seconds."""

    total: float = 0.0
    first_token: float | None = None  # from the call to the first streamed text (streaming only)
    prompt: float | None = None  # reading the prompt, as the backend reports it
    generation: float | None = None  # writing the completion, as the backend reports it

    def tokens_per_second(self, completion_tokens: int) -> float | None:
        """Completion tokens per second of generation time."""
        if self.generation and completion_tokens:
            return completion_tokens / self.generation
        return None


@dataclass
class TokenLogprobs:
    """One step of a completion: the token written, its log-probability, and the likeliest
    alternatives (``(token, logprob)``, best first; the model's own distribution, before any
    grammar narrowed it)."""

    token: str
    logprob: float
    top: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Generation:
    """One completion."""

    text: str
    finish_reason: str  # "stop" (end of text or a stop sequence), "length" (max_tokens), ...
    model: str
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    constrained: bool = False  # whether a grammar or schema bound the output
    logprobs: list[TokenLogprobs] | None = None  # per completion token, when asked for and given

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["timings"]["tokens_per_second"] = self.timings.tokens_per_second(self.usage.completion_tokens)
        return out


@runtime_checkable
class Generator(Protocol):
    """A chat model.

    Attributes:
        name: what to call it in results (a catalog name, a file name, ``openai:URL#model``).
        context_size: tokens the prompt and the completion share.
        constrains: whether ``grammar`` / ``json_schema`` are applied (else they are ignored,
            and the caller must validate what comes back).
    """

    name: str
    context_size: int
    constrains: bool

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
        """Complete the conversation; stream pieces of text to ``on_text`` if given.

        ``cache_prompt=False`` reads the whole prompt afresh: llama.cpp's logits for a prompt read
        partly from the cache can differ in the last bits from a full read, enough to change a greedy
        answer; callers that promise the same output for the same input turn the cache off.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's prompt (its own tokenizer where known)."""
        ...


def chat_request(
    messages: Sequence[Message],
    *,
    max_tokens: int,
    temperature: float,
    seed: int,
    stop: Sequence[str],
    grammar: str | None,
    json_schema: dict[str, Any] | None,
    stream: bool,
    top_logprobs: int = 0,
) -> dict[str, Any]:
    """The OpenAI chat-completions body (with llama.cpp's ``grammar`` extension) both backends send."""
    if max_tokens < 1:
        raise LLMError(f"max_tokens must be at least 1, got {max_tokens}")
    if not messages:
        raise LLMError("no messages to complete", hint="Give at least one user message.")
    body: dict[str, Any] = {
        "messages": [dict(m) for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
        "seed": seed,
        "stream": stream,
    }
    if stop:
        body["stop"] = list(stop)
    if grammar is not None:
        body["grammar"] = grammar
    if json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema}}
    if stream:
        body["stream_options"] = {"include_usage": True}
    if top_logprobs:
        if not 1 <= top_logprobs <= 20:
            raise LLMError(f"top_logprobs must be between 1 and 20 (OpenAI's limit), got {top_logprobs}")
        body["logprobs"] = True
        body["top_logprobs"] = top_logprobs
    return body


def usage_of(reply: dict[str, Any]) -> Usage:
    raw = reply.get("usage") or {}
    details = raw.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
    )


def backend_timings(reply: dict[str, Any], timings: Timings) -> Timings:
    """Add llama.cpp's own prompt and generation times (its ``timings`` field), when the reply has them."""
    raw = reply.get("timings") or {}
    if "prompt_ms" in raw:
        timings.prompt = raw["prompt_ms"] / 1000
    if "predicted_ms" in raw:
        timings.generation = raw["predicted_ms"] / 1000
    return timings


class Completion:
    """Builds a :class:`Generation` from an OpenAI-compatible reply, whole or streamed chunk by chunk.

    Both backends speak the same JSON (llama.cpp's server is OpenAI-compatible), so this is
    the one place that reads it; anything malformed is an :class:`LLMBadResponse` naming the field.
    """

    def __init__(self, model: str, source: str, on_text: OnText | None, started: float, constrained: bool) -> None:
        self.model, self.source, self.on_text, self.started = model, source, on_text, started
        self.parts: list[str] = []
        self.finish_reason = ""
        self.reply: dict[str, Any] = {}
        self.first_token: float | None = None
        self.constrained = constrained
        self.logprobs: list[TokenLogprobs] | None = None

    def _bad(self, what: str, data: Any) -> LLMBadResponse:
        shown = repr(data)
        return LLMBadResponse(
            f"{self.source} sent a reply that is not OpenAI-compatible: {what} (got {shown[:200]})",
            hint="Check that the URL points at an OpenAI-compatible /v1 endpoint and that the model name is right.",
        )

    def _check(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self._bad("expected a JSON object", data)
        if "error" in data:
            error = data["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LLMError(f"{self.source} refused the request: {message}")
        return data

    def chunk(self, data: Any, now: float) -> None:
        """One streamed ``chat.completion.chunk``."""
        data = self._check(data)
        for key in ("usage", "timings"):
            if data.get(key):
                self.reply[key] = data[key]
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise self._bad("a chunk without a 'choices' list", data)
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                raise self._bad("a choice without a 'delta' object", data)
            piece = delta.get("content")
            if piece:
                if self.first_token is None:
                    self.first_token = now - self.started
                self.parts.append(piece)
                if self.on_text is not None:
                    self.on_text(piece)
            self._logprobs(choice, data)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def _logprobs(self, choice: dict[str, Any], data: Any) -> None:
        """Collect ``choice.logprobs.content`` (OpenAI's shape), if the reply has it."""
        raw = choice.get("logprobs")
        if not raw:
            return
        content = raw.get("content") if isinstance(raw, dict) else None
        try:
            steps = [
                TokenLogprobs(
                    str(step["token"]),
                    float(step["logprob"]),
                    [(str(t["token"]), float(t["logprob"])) for t in step.get("top_logprobs") or ()],
                )
                for step in content or ()
            ]
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._bad("logprobs.content entries need 'token' and 'logprob'", data) from None
        if self.logprobs is None:
            self.logprobs = []
        self.logprobs.extend(steps)

    def whole(self, data: Any) -> None:
        """A complete (not streamed) ``chat.completion``."""
        data = self._check(data)
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise self._bad("no choices[0].message.content", data) from None
        if content is not None and not isinstance(content, str):
            raise self._bad("choices[0].message.content is not text", data)
        self.reply = data
        self.parts = [content or ""]
        self.finish_reason = choice.get("finish_reason") or ""
        self._logprobs(choice, data)
        if self.on_text is not None and content:
            self.on_text(content)

    def result(self, now: float) -> Generation:
        timings = backend_timings(self.reply, Timings(total=now - self.started, first_token=self.first_token))
        return Generation(
            text="".join(self.parts),
            finish_reason=self.finish_reason or "stop",
            model=self.model,
            usage=usage_of(self.reply),
            timings=timings,
            constrained=self.constrained,
            logprobs=self.logprobs,
        )
