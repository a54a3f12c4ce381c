# Two commands on a fresh machine with only python3, pip and make:
#   make run    – the whole pipeline on the embedded sample (offline)
#   make test   – the test suite (what CI runs, .ci/run)
# and the inner loop while editing:
#   make test-fast – lint plus every test that needs no full pipeline run (-m "not slow")
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

# Both cores: each test module stays on one worker, the four modules sharing the session
# fixture full_sample_run share one (tests/conftest.py); slow groups are handed out first.
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder

.PHONY: run test test-fast test-postgres lint bytecode bench dev validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"

# Install exactly what uv.lock pins (the lock file is committed); --locked fails when the lock
# no longer matches pyproject.toml (run `.venv/bin/uv lock` and commit uv.lock).
# --compile-bytecode: every process (ozg, dbt, each test worker) would otherwise compile the
# libraries' sources again when PYTHONDONTWRITEBYTECODE is set (2–3 s per start, measured).
$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --extra dev --compile-bytecode --python $(BIN)/python
	touch $(STAMP)

# The project's own modules, for the same reason (incremental: only changed files).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q pipelines sources benchmarks >/dev/null

run: bytecode
	$(BIN)/ozg run --mode sample

# PYTHONDONTWRITEBYTECODE emptied for pytest: it then caches its assertion-rewritten test
# modules in __pycache__ (5 s of every worker's collection on this machine otherwise).
TEST_ENV := PYTHONDONTWRITEBYTECODE=

test: lint
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_PARALLEL) --durations=15

test-fast: lint
	$(TEST_ENV) $(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile --durations=15

# The PostgreSQL tests alone (each xdist worker starts its own server on 127.0.0.1, or uses
# OZG_TEST_POSTGRES_DSN); Debian's postgresql package provides the server binaries.
test-postgres: bytecode
	$(TEST_ENV) $(BIN)/python -m pytest -m postgres $(PYTEST_PARALLEL) --durations=15

lint: bytecode
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Not part of `make test`: real sample runs for minutes, stage by stage, against the goals of
# issue 14; prints and writes BENCHMARKS.md, ends with TARGET lines. BENCH_ARGS=--quick: Hessen
# × 1 snapshot only (benchmarks/pipeline_benchmark.py lists the options).
bench: bytecode
	$(BIN)/python -m benchmarks.pipeline_benchmark $(BENCH_ARGS)

validate: $(STAMP)
	$(BIN)/dagster definitions validate -w workspace.yaml
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg check defs

# The UI can launch runs: it binds to 127.0.0.1 unless OZG_DEV_HOST says otherwise.
dev: $(STAMP)
	mkdir -p data/dagster && test -f data/dagster/dagster.yaml || cp dagster.yaml data/dagster/
	DAGSTER_HOME=$${DAGSTER_HOME:-$$(pwd)/data/dagster} $(BIN)/dagster dev -w workspace.yaml -h "$${OZG_DEV_HOST:-127.0.0.1}" -p $${PORT:-3000}

clean:
	rm -rf data .pytest_cache .ruff_cache
