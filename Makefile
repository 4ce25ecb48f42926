# opsdesk — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test tools test-sqlite test-postgres lint bench fuzz messages docs vendor clean

run: $(VENV)/.installed
	$(BIN)/opsdesk run

test: $(VENV)/.installed-test tools lint test-sqlite test-postgres

# Debian packages the tests drive for real (Alertmanager); installed when running as root.
tools:
	@sh scripts/ensure_test_tools.sh

test-sqlite: $(VENV)/.installed-test
	OPSDESK_DATABASE_URL= $(BIN)/pytest

test-postgres: $(VENV)/.installed-test
	@$(BIN)/python scripts/postgres_ready.py "$(PG_URL)"; ready=$$?; \
	if [ $$ready = 0 ]; then OPSDESK_DATABASE_URL="$(PG_URL)" $(BIN)/pytest; \
	elif [ $$ready != 1 ]; then exit $$ready; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check opsdesk tests bench
	$(BIN)/mypy opsdesk
	$(BIN)/python scripts/check_messages.py

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

# The API fuzz test at length: many examples per operation and role, and the stateful phase
# that chains calls (file a ticket, then act on it). `make test` runs a short version.
fuzz: $(VENV)/.installed-test
	OPSDESK_FUZZ_EXAMPLES=$${OPSDESK_FUZZ_EXAMPLES:-100} \
	OPSDESK_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	OPSDESK_DATABASE_URL=$${OPSDESK_DATABASE_URL:-} $(BIN)/pytest -m fuzz tests/test_api_fuzz.py

# Regenerate the translation catalogues after changing user-visible strings (needs gettext).
messages: $(VENV)/.installed
	cd opsdesk && ../$(BIN)/opsdesk makemessages -l zh_Hans -l en --no-obsolete --no-location
	cd opsdesk && ../$(BIN)/opsdesk compilemessages

# Refresh the vendored front-end libraries (htmx, ECharts) from assets/package.json (needs npm).
vendor:
	sh scripts/vendor_assets.sh

docs: $(VENV)/.installed
	$(BIN)/opsdesk workflow_docs > docs/workflow.md

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "opsdesk needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing python3-venv (Debian does not ship venv with Python)"; \
			apt-get install -y -q python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
		else \
			echo "Cannot create a virtual environment: run 'sudo apt-get install python3-venv' and retry."; \
			exit 1; \
		fi; }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
