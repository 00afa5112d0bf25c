# Two commands set everything up on a fresh machine with Python 3.9+ and make:
#   make run    # the whole pipeline offline on synthetic data into ./lake
#   make test   # the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAKE   ?= lake

.PHONY: run test lint package deploy bench clean-lake dashboard

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing tickerlake and its dependencies into $(VENV) (first time: about a minute)..."
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tickerlake run --source synthetic --lake $(LAKE)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check --target-version py39 glue_jobs ingestion workflows tests

clean-lake:
	rm -rf $(LAKE)

# AWS: package, deploy, lint-infra, artifacts-bucket, stack-outputs (see infra/README.md)
include infra/make.mk
