# Two commands do all the set-up on a fresh machine with Python >= 3.11 and make:
#   make run    virtualenv, install, migrate, seed the demo territory, serve on 127.0.0.1:5000
#   make test   virtualenv, install, the whole test suite
# PYTHON picks the interpreter used to create the virtualenv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PARTICIPANTS ?= 60
PYTEST_ARGS ?= -n auto --dist worksteal

.PHONY: install init-db seed run test fuzz lint format clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED)

init-db: install
	$(BIN)/referral init-db

seed: init-db
	$(BIN)/referral seed --demo-participants $(DEMO_PARTICIPANTS)

run: seed
	@$(BIN)/referral scheduler --run-once
	@$(BIN)/referral demo-accounts
	@echo "Pour que les tâches planifiées tournent en continu, dans un second terminal : $(BIN)/referral scheduler"
	@echo "Service : http://$(HOST):$(PORT)/  (Ctrl-C pour arrêter)"
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long schemathesis campaign (the suite runs a short one): every operation of the OpenAPI
# document as a CIP, a CP and the national team, FUZZ_EXAMPLES requests per operation and mode.
# SQLite; PostgreSQL too when TEST_DATABASE_URL is set. Prints operations, requests, failures.
FUZZ_EXAMPLES ?= 50
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/web/test_fuzz.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
