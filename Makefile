# Every target sets up what it needs: a fresh clone runs `make example` or `make test` directly.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mlgates-installed

.PHONY: example example-blocked test lint typecheck unit benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Run the gates on the bundled example project and write its HTML report.
example: $(STAMP)
	$(BIN)/mlgates run --config examples/credit/mlgates.toml

## The same project with a drifted, schema-breaking batch: the run blocks (exit 1).
example-blocked: $(STAMP)
	$(BIN)/mlgates run --config examples/credit/mlgates.drifted.toml

## Lint, type-check and run the whole test suite.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2

benchmark: $(STAMP)
	$(BIN)/python benchmarks/data_gate.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .grimp_cache
