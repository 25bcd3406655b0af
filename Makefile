# Set-up and checks. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck bench bench-server clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Run a Prefect 1 flow end to end (parameters, a map, a retry, case/merge, a checkpointed result),
# first locally, then orchestrated: a server on the embedded SQLite and a free port, the flow
# registered, run by a local agent and watched with `prefect run --watch`; everything started is
# stopped on any exit. Prints each run's final state; exits non-zero unless both are Success.
demo: $(STAMP)
	$(BIN)/python examples/demo_flow.py
	$(BIN)/python examples/demo_orchestrated.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts examples
	$(BIN)/ruff format --check src tests bench scripts examples

typecheck: $(STAMP)
	$(BIN)/mypy src/prefect

# Lint, type-check, then the whole suite; pytest exits 5 when it collects nothing, which fails
# the target.
test: lint typecheck
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider tests

bench: $(STAMP)
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python -m pytest -q -p no:cacheprovider bench --benchmark-only

# The server's targets (bench/server/README.md): start-up, state writes/s, idle memory. Run alone.
bench-server: $(STAMP)
	$(BIN)/python bench/server/bench_startup.py
	$(BIN)/python bench/server/bench_state_writes.py
	$(BIN)/python bench/server/bench_idle_rss.py
	$(BIN)/python bench/server/bench_no_work_ceiling.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
