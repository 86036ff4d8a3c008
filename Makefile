# CountyFusion: the two commands the README opens with, and what they need.
#   make reproduce   execute every notebook on the shipped data, write results/ and results/REPORT.md
#   make test        run the test suite (every notebook end to end in fast mode included)
# Both create the local virtual environment .venv from requirements.lock on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.countyfusion-installed
JOBS   ?= 2

.PHONY: all reproduce test test-fast lint bench fonts venv lock clean update-expected docs census mutation

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

# make reproduce DATA=my_panel.xlsx STUDY=my_study.yaml   runs every notebook on your own panel
reproduce: $(STAMP) fonts
	$(BIN)/python -m analysis.reproduce $(if $(DATA),-p data_path $(abspath $(DATA))) $(if $(STUDY),-p study_path $(abspath $(STUDY)))

update-expected: $(STAMP) fonts
	$(BIN)/python -m analysis.reproduce --update-expected

test: $(STAMP) fonts
	$(BIN)/python -m pytest -n $(JOBS) --dist load -q

test-fast: $(STAMP) fonts
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q -m "not notebook"

# rebuild data/real/ (the 2010 and 2020 county censuses) from ../shared/data/census or CENSUS_SOURCE
census: $(STAMP)
	$(BIN)/python scripts/build_census.py $(CENSUS_SOURCE)

# ruff on the library, tests, scripts and benchmarks (configuration in pyproject.toml; also run by
# tests/test_lint.py in `make test`)
lint: $(STAMP)
	$(BIN)/python -m ruff check analysis tests scripts benchmarks

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

# the documentation site: Sphinx + MyST-NB + PyData theme (pins in docs/requirements.txt), built
# offline with warnings as errors into docs/_build/html, then checked (scripts/check_docs.py); the
# notebook pages are executed copies (results/notebooks/ of make reproduce, else a fast-mode run
# into docs/_executed/, kept until a notebook changes)
docs: $(STAMP) fonts
	@$(BIN)/python -m pip install --quiet -r docs/requirements.txt
	rm -rf docs/_build
	$(BIN)/python scripts/execute_notebooks.py docs/_executed
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	$(BIN)/python scripts/check_docs.py docs/_build/html

clean:
	rm -rf results/tables results/figures results/notebooks results/REPORT.md .pytest_cache docs/_build docs/_executed
