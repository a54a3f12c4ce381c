# Two commands on a fresh machine with only python3, pip and make:
#   make run    – the whole pipeline on the embedded sample (offline)
#   make test   – the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: run test lint dev validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"

# Install exactly what uv.lock pins (the lock file is committed).
$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --extra dev --python $(BIN)/python
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ozg run --mode sample

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

validate: $(STAMP)
	$(BIN)/dagster definitions validate -w workspace.yaml

dev: $(STAMP)
	mkdir -p data/dagster && test -f data/dagster/dagster.yaml || cp dagster.yaml data/dagster/
	DAGSTER_HOME=$${DAGSTER_HOME:-$$(pwd)/data/dagster} $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $${PORT:-3000}

clean:
	rm -rf data .pytest_cache .ruff_cache
