# Two commands set up and use everything; both bootstrap their own .venv.
#   make run    start a simulated ControlLogix with a default tag set
#   make test   install what the tests need and run them (lint included)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q

run: $(STAMP)
	@echo "make run: the EtherNet/IP simulator has not landed yet; only the codec exists so far." >&2; exit 1

bench: $(STAMP)
	$(PY) bench/run.py

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) bench/.ref-venv .pytest_cache .ruff_cache .hypothesis
