# Two commands for a fresh machine:  make run  (serve on http://127.0.0.1:8000)  and  make test.
# The interpreter the virtual environment is made from: scripts/choose-python.sh says which and why.
PYTHON ?= $(shell bash scripts/choose-python.sh)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
INTAKE := $(VENV)/bin/intake
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev system-deps model db demo lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Trains the model from the seed corpus when there is none yet (offline, under a minute).
model: install
	$(INTAKE) model ensure

db: install
	$(INTAKE) db upgrade

demo: model db
	$(INTAKE) demo

run: model db
	$(INTAKE) serve --host $(HOST) --port $(PORT)

# Debian packages the tests drive for real: Dovecot (IMAP) and Chromium (browser tests).
system-deps:
	bash scripts/install-system-deps.sh

# Two pytest-xdist workers, whole files per worker (module fixtures such as the browser stay put);
# each worker has its own PostgreSQL template, queue names and temp dirs. TEST_WORKERS=0 runs serially.
# Files go out in collection order, which tests/conftest.py sorts slowest first (SLOW_FILES_SECONDS).
TEST_WORKERS ?= 2
test: install-dev system-deps model
	bash scripts/ensure-services.sh
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy intake channels classifier triage_rules models  # strict: see [tool.mypy] in pyproject.toml

bench: install-dev
	bash bench/run_all.sh

clean:
	rm -rf var .pytest_cache
