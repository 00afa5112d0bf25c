# Two commands set everything up on a fresh machine with Python 3.9+ and make:
#   make run    # the whole pipeline offline on synthetic data into ./lake
#   make test   # the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAKE   ?= lake

.PHONY: run test lint package deploy smoke bench bench-quick clean-lake dashboard mutate

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing tickerlake and its dependencies into $(VENV) (first time: a minute or two)..."
	@# pip's build chatter goes to a log, shown only when the install fails
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tickerlake run --source synthetic --lake $(LAKE)

# The layers first (pyproject's [tool.importlinter] contracts): an upward import fails in seconds.
test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check --target-version py39 glue_jobs ingestion workflows tests

# Performance against the targets (README, Performance): about 25M rows, many minutes and a
# few GB under /tmp; bench-quick is the same at a small scale in under a minute.
bench: $(STAMP)
	$(BIN)/tickerlake bench

bench-quick: $(STAMP)
	$(BIN)/tickerlake bench --quick

# Mutation testing of the core modules (README, Development): mutmut, each mutant against the
# tests that reach its function; the report goes to test-artifacts/mutation/report.md. Not part
# of `make test`. MUTANTS=glob narrows it (e.g. MUTANTS='ingestion.rate_limit.*').
# Then the SQL of write_temp and publish (tests/mutation/sql_mutate.py; report-sql.md beside
# report.md); SQL_MUTANTS=file narrows it (e.g. SQL_MUTANTS=wap/publish/merge.sql).
mutate: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[dev,mutate]'
	$(BIN)/python tests/mutation/mutate.py --max-children 2 $(MUTANTS)
	$(BIN)/python tests/mutation/sql_mutate.py --max-children 2 $(SQL_MUTANTS)

clean-lake:
	rm -rf $(LAKE)

# AWS: package, deploy, smoke, lint-infra, artifacts-bucket, stack-outputs (see infra/README.md)
include infra/make.mk
