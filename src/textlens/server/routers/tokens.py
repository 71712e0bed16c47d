"""Tokenizer endpoints: the registry and comparisons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field

from textlens.errors import Forbidden, InputError
from textlens.server.options import options_of, request_model
from textlens.server.schemas import Body, Comparison, Job, Tokenizer, responses
from textlens.tokens.languages import LanguageOptions

router = APIRouter(prefix="/api", tags=["tokens"], responses=responses(404, 503))


class CompareRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Hello, world!", "tokenizers": ["cl100k"]}]})
    text: str | None = Field(None, description="Text to compare; omitted: the built-in probe text.")
    tokenizers: list[str] | None = Field(
        None, max_length=32, description="Registry names (GET /api/tokenizers), or omitted for the default set."
    )
    categories: bool | None = Field(None, description="Per-category table (default: with the probe text).")
    segments: bool = Field(True, description="Include coloured segments (ids and text per group).")


@router.get("/tokenizers", response_model=list[Tokenizer])
def list_tokenizers() -> list[dict[str, Any]]:
    """Every named tokenizer with its format, vocabulary size and availability here."""
    from textlens.tokens.registry import describe_all

    return describe_all()


@router.post("/tokens/compare", response_model=Comparison)
def compare_tokens(body: CompareRequest, request: Request) -> dict[str, Any]:
    """The same data as ``textlens tokens compare --json``."""
    from textlens.tokens import compare

    limit = request.app.state.textlens.settings.max_text_chars
    if body.text is not None and len(body.text) > limit:
        raise InputError(
            f"text is {len(body.text):,} characters; this server accepts up to {limit:,}",
            hint="Send less text.",
        )
    _named_only(body.tokenizers)
    return compare(body.text, body.tokenizers, categories=body.categories).to_dict(with_segments=body.segments)


def _named_only(names: list[str] | None) -> list[str] | None:
    """The registry's own names for ``names`` (an alias becomes its name); a file path or Hub id is refused (403),
    an unknown name too (404, with the known names), before anything loads."""
    from textlens.tokens.registry import is_named, spec

    for name in names or ():
        if not is_named(name) and (name.startswith("hf:") or "/" in name or "\\" in name):
            raise Forbidden(
                f"tokenizer {name!r}: this server loads named tokenizers only, no files or Hub ids",
                hint="Use a name from GET /api/tokenizers.",
            )
    return [spec(name).name for name in names] if names is not None else None


LanguagesRequest = request_model(
    LanguageOptions,
    "LanguagesRequest",
    schema={"examples": [{"tokenizers": ["gpt-4", "gpt-4o"], "pivot": "eng"}]},
    tokenizers=(
        list[str] | None,
        Field(None, min_length=1, max_length=32, description="Registry names; omitted: the default set."),
    ),
    texts=(
        dict[str, str | dict[str, str]] | None,
        Field(
            None,
            min_length=2,
            max_length=1000,
            description="A parallel text: {language: text}, or {language: {segment id: text}} to align segments; "
            "omitted: the Universal Declaration of Human Rights (complete translations).",
        ),
    ),
    prices=(
        dict[str, Annotated[float, Field(gt=0)]] | None,
        Field(None, description="US dollars per million input tokens, by tokenizer name (default: textlens's table)."),
    ),
)


POLL = {
    "links": {"get_languages_job": {"operationId": "get_languages_job", "parameters": {"job_id": "$response.body#/id"}}}
}


@router.post(
    "/tokens/languages",
    response_model=dict[str, Any],
    responses={
        200: {"description": "The report: on the texts sent, or on the UDHR with counts the server has already."},
        202: {"model": Job, "description": "Measuring the UDHR in the background: poll the job.", **POLL},
        **responses(409, 429),
    },
)
def token_languages(body: LanguagesRequest, request: Request, response: Response) -> dict[str, Any]:  # type: ignore[valid-type]
    """The same data as ``textlens tokens languages --json``: per language and tokenizer the token premium over
    the pivot, bytes and characters per token, byte and unknown tokens, round-trip loss and cost. On ``texts``, at
    once; on the UDHR, at once where the server has counted it with these tokenizers before, else as a job (202)
    that counts each tokenizer once (a few seconds each)."""
    from textlens.tokens.compare import default_tokenizers
    from textlens.tokens.languages import languages
    from textlens.tokens.parallel import parallel_from_mapping
    from textlens.tokens.prices import price_table, with_prices

    st = request.app.state.textlens
    named = _named_only(body.tokenizers)
    options = options_of(LanguageOptions, body)
    table = with_prices(price_table(), body.prices or {})
    if body.texts is not None:
        size = sum(len(v) if isinstance(v, str) else sum(map(len, v.values())) for v in body.texts.values())
        limit = st.settings.max_text_chars
        if size > limit:
            raise InputError(f"the texts hold {size:,} characters; this server accepts up to {limit:,}")
        parallel = parallel_from_mapping(body.texts)
        return languages(parallel, named, options=options, prices=table, num_threads=1).to_dict()
    names = named or default_tokenizers()[0]

    def report(progress=None) -> dict[str, Any]:
        parallel, counted = st.udhr(options.complete_only)
        return languages(
            parallel, names, options=options, prices=table, num_threads=1, counted=counted, progress=progress
        ).to_dict()

    known = st.udhr(options.complete_only, read=False)
    if known is not None and all((n, options.pivot) in known[1] for n in names):
        return report()

    def work(job) -> dict[str, Any]:
        return report(st.progress_of(job))

    response.status_code = 202
    return st.start_job("languages", work).to_dict()


@router.get("/tokens/languages/jobs/{job_id}", response_model=Job, responses=responses(404))
def get_languages_job(job_id: str, request: Request) -> dict[str, Any]:
    """A languages job's status and progress (tokenizers counted); its result, the report, when done."""
    return request.app.state.textlens.job(job_id, "languages").to_dict()
