"""The ``textlens tokens`` commands, run through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from textlens.cli import app
from textlens.tokens import compare

runner = CliRunner()


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("textlens ")


def test_list_json_shows_every_name_with_availability(shared_tokenizers) -> None:
    result = invoke("tokens", "list", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    required = {
        "gpt2",
        "gpt-4",
        "gpt-4o",
        "llama-2",
        "llama-3",
        "mistral-v0.1",
        "mistral-v0.3",
        "qwen3",
        "gemma-3",
        "phi-3",
        "starcoder2",
        "bert-base-uncased",
        "claude-legacy",
        "falcon",
        "deepseek-coder",
    }
    assert required <= set(rows)
    assert all(rows[n]["available"] for n in required)
    assert rows["gpt-4"]["vocab_size"] == 100277 and rows["gpt-4"]["format"] == "tiktoken"


def test_list_table_renders(shared_tokenizers) -> None:
    result = invoke("tokens", "list")
    assert result.exit_code == 0 and "deepseek-coder" in result.stdout


def test_compare_json_matches_the_python_api(shared_tokenizers) -> None:
    text = "Hello wörld 你好 🚀\n\tdef f(): return 42"
    result = invoke("tokens", "compare", text, "-t", "gpt-4", "-t", "llama-2", "-t", "bert-base-uncased", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    api = compare(text, ["gpt-4", "llama-2", "bert-base-uncased"]).to_dict()
    assert data == json.loads(json.dumps(api))
    bert = data["tokenizers"][2]
    assert bert["stats"]["special_added"] == ["[CLS]", "[SEP]"] and bert["stats"]["unk_count"] > 0
    assert not bert["roundtrip"]["lossless"]
    assert data["categories"] == {}


def test_compare_default_probe_terminal_view(shared_tokenizers) -> None:
    result = invoke("tokens", "compare", "--ids", "--show-whitespace")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Tokens per probe category" in out and "korean" in out and "gpt-4o" in out
    assert "\u21b5" in out  # newlines made visible


def test_compare_reads_stdin_and_writes_html(tmp_path: Path, shared_tokenizers) -> None:
    page = tmp_path / "cmp.html"
    result = invoke("tokens", "compare", "-", "-t", "gpt-4o", "--html", str(page), input="naïve café 😀")
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "gpt-4o" in html and "caf" in html
    assert "http" not in html.split("<script", 1)[0]  # nothing fetched from outside
    data = json.loads(html.split('id="textlens-data">', 1)[1].split("</script>", 1)[0])
    assert data["tokenizers"][0]["name"] == "gpt-4o"


def test_compare_file_with_invalid_utf8_says_where(tmp_path: Path, shared_tokenizers) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"line one\nline \xff two\n")
    result = invoke("tokens", "compare", "--file", str(path), "-t", "gpt-4", "--json")
    assert result.exit_code == 0
    assert "line 2 byte 14" in result.stderr and "U+FFFD" in result.stderr
    assert "\ufffd" in json.loads(result.stdout)["text"]


def test_compare_refuses_a_corpus_sized_file(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(11_000_000)
    result = invoke("tokens", "compare", "--file", str(big))
    assert result.exit_code == 2 and "textlens tokens stats" in result.stderr


def test_empty_text_is_a_clear_error(shared_tokenizers) -> None:
    result = invoke("tokens", "compare", "", "-t", "gpt-4")
    assert result.exit_code == 2
    assert "empty" in result.stderr and "hint" in result.stderr


def test_unknown_tokenizer_lists_the_names() -> None:
    result = invoke("tokens", "compare", "hi", "-t", "gpt-5")
    assert result.exit_code == 2
    assert "unknown tokenizer 'gpt-5'" in result.stderr and "gpt-4o" in result.stderr
    assert "Traceback" not in result.output


def test_stats_json_over_a_folder(tmp_path: Path, shared_tokenizers) -> None:
    (tmp_path / "a.txt").write_text("Hello world.\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"body": "자연어 처리"}\n', encoding="utf-8")
    result = invoke("tokens", "stats", str(tmp_path), "-t", "gpt-4", "-t", "qwen3", "--text-field", "body", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["documents"] == 2
    assert [t["name"] for t in data["tokenizers"]] == ["gpt-4", "qwen3"]
    assert "Hangul" in data["tokenizers"][0]["by_script"]


def test_stats_terminal_view_and_missing_path(tmp_path: Path, shared_tokenizers) -> None:
    (tmp_path / "a.txt").write_text("Hello world.\n", encoding="utf-8")
    result = invoke("tokens", "stats", str(tmp_path), "-t", "gpt-4")
    assert result.exit_code == 0 and "Bytes per token by script" in result.stdout
    missing = invoke("tokens", "stats", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_console_script_runs(shared_tokenizers) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "textlens", "tokens", "compare", "hello", "-t", "gpt-4", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["tokenizers"][0]["ids"] == [15339]
