# TicketPilot — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck pytest migrate validate model bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "TicketPilot needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed-run

## make run: the embedded default on http://127.0.0.1:8080 (embedded PostgreSQL under ./var/, sandbox adapters)
run: $(VENV)/.installed-run
	exec $(PY) main.py serve

## make test: lint, type-check and the whole test suite
test: $(VENV)/.installed-test lint typecheck pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check ticketpilot tests bench training main.py
	$(VENV)/bin/ruff format --check ticketpilot tests bench training main.py

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed-test
	$(VENV)/bin/pytest -p no:cacheprovider

migrate: $(VENV)/.installed-run
	$(PY) main.py migrate

## make model: rebuild the shipped offline model from training/examples.jsonl (deterministic; commit the result)
model: $(VENV)/.installed-run
	$(PY) -m training.build_model

validate: $(VENV)/.installed-run
	$(PY) main.py playbooks validate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
