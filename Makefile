# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup model ingest run test bench eval browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Converts the bundled multilingual-e5-small weights to ONNX once (cached outside the repo).
model: setup
	$(BIN)/python -m rag.prepare_model

ingest: model
	$(BIN)/python -m ingest

run: ingest
	$(BIN)/python -m ui

# Headless Chromium and its driver for the browser test, from the distribution's packages.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  echo "installing chromium and chromium-driver"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: model browser
	$(BIN)/python -m pytest -q

eval: model
	$(BIN)/python -m eval --baseline --report reports/

# BENCH_AGAINST=REV compares ingest with the code of that git revision instead of the previous settings.
BENCH_AGAINST ?=
bench: model
	$(BIN)/python -m eval.bench --compare-ingest 96 $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST)) \
	  --json reports/bench.json --markdown reports/bench.md

clean:
	rm -rf $(VENV) store var reports .pytest_cache
