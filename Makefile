# Set-up and checks. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy src/prefect

# Lint, type-check, then the whole suite; pytest exits 5 when it collects nothing, which fails
# the target.
test: lint typecheck
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider tests

bench: $(STAMP)
	$(BIN)/python bench/bench_import.py
	$(BIN)/python -m pytest -q -p no:cacheprovider bench --benchmark-only

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
