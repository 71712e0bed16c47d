"""Options are defined once (textlens.options): the Python signatures, the CLI and the REST request models show
every task's options with the same names, defaults, ranges and help texts."""

from __future__ import annotations

import inspect

import pytest
import typer

import textlens
from textlens.ask.options import AskOptions
from textlens.cli import app
from textlens.cli.options import cli_default, cli_fields
from textlens.errors import InputError
from textlens.keywords import KeywordOptions
from textlens.options import Options, item_bound
from textlens.search.options import SearchOptions
from textlens.server.options import rest_fields
from textlens.server.routers.ask import AskRequest
from textlens.server.routers.collections import SearchRequest
from textlens.server.routers.keywords import KeywordsRequest
from textlens.server.routers.tokens import LanguagesRequest
from textlens.tokens.languages import LanguageOptions
from textlens.topics import TopicModel
from textlens.topics.options import TopicOptions

COMMANDS = {name: cmd for name, cmd in typer.main.get_command(app).commands.items()}
COMMANDS["tokens languages"] = COMMANDS["tokens"].commands["languages"]
TASKS = [
    # options, the Python functions that take them, the CLI command, the REST request model
    (SearchOptions, [textlens.Collection.search], "search", SearchRequest),
    (AskOptions, [textlens.Collection.ask, textlens.ask], "ask", AskRequest),
    (TopicOptions, [TopicModel.__init__], "topics", None),  # no REST endpoint for topics
    (KeywordOptions, [textlens.extract_keywords], "keywords", KeywordsRequest),
    (LanguageOptions, [], "tokens languages", LanguagesRequest),  # languages() takes options=, or changes by name
]


@pytest.mark.parametrize(("options", "functions", "command", "request_model"), TASKS, ids=[t[2] for t in TASKS])
def test_python_cli_and_rest_agree(options: type[Options], functions, command: str, request_model):
    fields = {f.name: f for f in options.fields()}
    for fn in functions:
        params = inspect.signature(fn).parameters
        assert {n: params[n].default for n in fields} == {n: f.default for n, f in fields.items()}, fn.__qualname__
    cli = {p.name: p for p in COMMANDS[command].params}
    for f in cli_fields(options):
        param = cli[f.name]
        assert param.default == cli_default(f) and param.help == f.metadata["help"], f.name
        parse = f.metadata.get("parse")
        assert (parse(param.default) if parse and param.default is not None else param.default) == f.default
    rest = request_model.model_fields if request_model is not None else {}
    schema = request_model.model_json_schema()["properties"] if request_model is not None else {}
    for f in rest_fields(options) if request_model is not None else []:
        assert rest[f.name].default == f.default and rest[f.name].description == f.metadata["help"], f.name
        shape = next(s for s in schema[f.name].get("anyOf", [schema[f.name]]) if s.get("type") != "null")
        for i, item in enumerate(shape.get("prefixItems") or [shape]):  # a tuple's bounds are its items'
            bounds = {k: item[key] for k, key in (("ge", "minimum"), ("le", "maximum")) if key in item}
            assert bounds == {k: item_bound(f.metadata[k], i) for k in ("ge", "le") if f.metadata[k] is not None}
    assert {f.name for f in options.fields()} - set(cli) <= {f.name for f in options.fields() if not f.metadata["cli"]}


def test_one_name_for_how_many_results():
    assert SearchOptions.k == 10 and AskOptions.k == 4  # the reason is in AskOptions.k's help
    assert "tuned with 4" in next(f for f in AskOptions.fields() if f.name == "k").metadata["help"]
    assert [p.opts for p in COMMANDS["search"].params if p.name == "k"] == [["--k", "-k"]]
    # keywords: k too; KeyBERT's top_n is still taken, as a second name and with a warning
    assert [p.opts for p in COMMANDS["keywords"].params if p.name == "k"] == [["--k", "-k", "--top-n"]]
    assert "k" in KeywordsRequest.model_fields and "top_n" not in KeywordsRequest.model_fields
    with pytest.warns(DeprecationWarning, match="now k="):
        [result] = textlens.extract_keywords(["Tokenizers split text into tokens."], top_n=2)
    assert len(result.keywords) == 2


def test_keyword_options_that_do_not_go_together_are_refused():
    with pytest.raises(InputError, match="choose one way to diversify"):
        KeywordOptions(max_sum=True, diversity=0.5)
    with pytest.raises(InputError, match="embedding method"):
        KeywordOptions(llm="smollm2-135m", seed_keywords=("physics",))
    with pytest.raises(InputError, match="threshold goes with llm_mode shared"):
        KeywordOptions(threshold=0.9)
    assert KeywordOptions().word_range == (1, 1) and KeywordOptions(llm="x").word_range == (1, 3)


def test_a_bad_option_is_named_with_its_range_or_choices():
    with pytest.raises(InputError, match="k must be between 1 and 1000, got 0"):
        SearchOptions(k=0)
    with pytest.raises(InputError, match="mode must be one of keyword, dense, hybrid, got 'fuzzy'"):
        SearchOptions(mode="fuzzy")
    with pytest.raises(InputError, match=r"unknown option.*colour") as err:
        SearchOptions.make(colour="red")
    assert "candidates" in err.value.hint
    with pytest.raises(InputError, match="weights must be at least 0, got -1"):
        SearchOptions(weights=(1.0, -1.0))
    with pytest.raises(InputError, match="bm25 must be between 0 and 1, got 2"):  # b's range: per item
        SearchOptions(bm25=(1.2, 2))


def test_eval_takes_the_search_options_its_modes_carry():
    from textlens.cli.evaluate import EVAL_EXCLUDES

    params = {p.name: p for p in COMMANDS["eval"].params}
    for f in cli_fields(SearchOptions, EVAL_EXCLUDES):
        if f.name in ("mode", "rerank"):  # the evaluation's own: several modes, and a reranked row added
            continue
        assert params[f.name].default == cli_default(f) and params[f.name].help == f.metadata["help"], f.name
