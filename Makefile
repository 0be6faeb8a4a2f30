# Two commands on a fresh machine with Python 3.12 and make:  make demo   and   make test.
# The Makefile bootstraps uv (into .tools/ when it is not installed) and the locked environment.

SHELL := /bin/bash
# Python 3.12 (the official Airflow image's): python3.12 on the PATH, else a pyenv-installed one.
ifndef PYTHON
PYTHON := $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 \
	2>/dev/null | sort -V | tail -n 1); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
	2>/dev/null && { command -v "$$p"; break; }; done)
endif
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
BIN := .venv/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=


.PHONY: help python chromium sync demo test lint unit integration dags migrate psql warehouse-url status \
        stop-warehouse clean up bench bench-night chaos

help:
	@echo "make demo            simulate 10 provinces, load Jan-Sep 2024 via the nightly DAG, print rates"
	@echo "make test            lint + the whole test suite (real PostgreSQL, real dag.test() runs)"
	@echo "make migrate         bring the warehouse schema and reference data up to date"
	@echo "make psql            open psql on the warehouse"
	@echo "make warehouse-url   print a PostgreSQL URL for a BI tool"
	@echo "make status          latest batches, quarantined rows, open alerts"
	@echo "make up              Airflow UI on http://localhost:8080 with the DAGs (Ctrl-C stops it)"
	@echo "make bench           pipeline stage by stage vs raw COPY (BENCH_ARGS='--rows 1000000')"
	@echo "make chaos           fault injection: kills, terminated backends, races, bad inputs; prints figures"
	@echo "make bench-night     one national night (34 units) through the nightly DAG, backfill estimate"

.tools/bin/uv: | python
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

python:
	@[ -n "$(PYTHON)" ] || { echo "Python 3.12 is needed: install it (apt, pyenv or python.org) or pass PYTHON=/path/to/python3.12"; exit 1; }

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on these machines), Python never
# caches compiled modules, and every task process would compile Airflow again (~7 s of CPU each).
$(BIN)/.synced: pyproject.toml uv.lock | python $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

sync: $(BIN)/.synced

demo: sync
	$(BIN)/tthc demo

lint: sync
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql/

dags: sync
	$(BIN)/pytest -m dags $(PYTEST_ARGS)

unit: sync
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

integration: sync
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

# The browser tests need Debian's Chromium (a test tool's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || { \
	    sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	    echo "installing Debian's chromium for the browser tests"; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: lint chromium
	$(BIN)/pytest $(PYTEST_ARGS)

migrate: sync
	$(BIN)/tthc --local migrate

psql: sync
	@$(BIN)/tthc psql

warehouse-url: sync
	@$(BIN)/tthc warehouse-url

status: sync
	@$(BIN)/tthc --local status

up: sync
	$(BIN)/tthc up

bench: sync
	$(BIN)/python bench/pipeline_bench.py $(BENCH_ARGS)

chaos: sync
	TTHC_CHAOS=1 $(BIN)/pytest tests/chaos -m chaos -s $(PYTEST_ARGS)

bench-night: sync
	$(BIN)/python bench/national_night.py $(BENCH_ARGS)

stop-warehouse: sync
	$(BIN)/python -c "from tthc_warehouse.local import embedded; embedded.stop()"

clean:
	rm -rf .data/airflow .data/landing .data/inbox
