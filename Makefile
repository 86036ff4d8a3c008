# CountyFusion: the two commands the README opens with, and what they need.
#   make reproduce   execute every notebook on the shipped data, write results/ and results/REPORT.md
#   make test        run the test suite (every notebook end to end in fast mode included)
# Both create the local virtual environment .venv from requirements.lock on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.countyfusion-installed
JOBS   ?= 2

.PHONY: all reproduce test test-fast bench fonts venv lock clean update-expected mutation

all: test

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CountyFusion needs Python 3.11 or newer; set PYTHON=python3.11")'
	@echo "==> creating $(VENV) from requirements.lock (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements.lock
	@$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

fonts:
	@sh scripts/install_fonts.sh

reproduce: $(STAMP) fonts
	$(BIN)/python -m analysis.reproduce

update-expected: $(STAMP) fonts
	$(BIN)/python -m analysis.reproduce --update-expected

test: $(STAMP) fonts
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

test-fast: $(STAMP) fonts
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q -m "not notebook"

# mutation testing (mutmut) of the core numeric modules, each against the tests that cover it;
# slow (hours for all modules on 2 cores): MODULES="coupling fe" make mutation runs a subset.
# Scores and the review of surviving mutants: tests/README.md.
MODULES ?=
mutation: $(STAMP)
	$(BIN)/python scripts/mutation.py $(MODULES)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lock:
	sh scripts/lock.sh

clean:
	rm -rf results/tables results/figures results/notebooks results/REPORT.md .pytest_cache
