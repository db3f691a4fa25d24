# Two commands set up and use everything; both bootstrap their own .venv.
#   make run    start a simulated ControlLogix with a default tag set
#   make test   install what the tests need and run them (lint included)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# The default tag set of `make run`; override with `make run TAGS="A=DINT[10] B=REAL"`, and add
# server options with RUN_ARGS (e.g. RUN_ARGS="--print -a :44819").  The dashboard and web API
# listen on this host only, at WEB (WEB= turns them off).
TAGS ?= SCADA=INT[1000] COUNTS=DINT[100] FLOATS=REAL[100] SPEED=REAL TOTAL=LINT RUNNING=BOOL \
        FLAGS=SINT[16] NAME=STRING TEXT=SSTRING[10]
RUN_ARGS ?= --print
WEB ?= 127.0.0.1:44880

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
	$(PY) -m cpppo.server.enip $(RUN_ARGS) $(if $(WEB),--web $(WEB)) $(TAGS)

bench: $(STAMP)
	$(PY) bench/run.py

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) bench/.ref-venv .pytest_cache .ruff_cache .hypothesis
