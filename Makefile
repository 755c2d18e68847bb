# Two commands do all set-up: `make demo` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432
PG_DB := hanoi247_ci_$(shell date +%s)_$$PPID
# Two processes (the machine has two cores); a file stays in one process, so a file's live network
# of nodes is started once. PYTEST_ARGS= runs in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: demo test test-sqlite test-pg lint bench clean

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

demo: $(VENV)/.installed  ## a local network: secretariat + VNM, FRA, BRA on SQLite
	$(BIN)/hanoi247 demo $(ARGS)

test: $(VENV)/.installed  ## the whole suite on SQLite, then on PostgreSQL when it is reachable
	$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-pg; \
	elif [ -n "$$REQUIRE_PG" ]; then echo "PostgreSQL at $(PG_URL) is required but not reachable" >&2; exit 1; \
	else echo "PostgreSQL not reachable at $(PG_URL): suite ran on SQLite only"; fi

test-sqlite: $(VENV)/.installed
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-pg: $(VENV)/.installed
	@echo "== test suite on PostgreSQL ($(PG_URL)/$(PG_DB), dropped afterwards) =="
	DATABASE_URL=$(PG_URL)/$(PG_DB) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/evidence.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/soak.py --minutes 2
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
