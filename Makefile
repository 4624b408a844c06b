# The two entry points of README.md. Everything is installed into .venv from
# pyproject.toml, so a fresh machine needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "autosnap needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	@echo 'installed into $(VENV); activate with: source $(VENV)/bin/activate'
	touch $@

setup: $(STAMP)

# The run ends with the final comparison (the workflow's onsuccess).
run: setup
	$(BIN)/snakemake --cores all

test: setup
	$(BIN)/pytest

# The fast tier: everything but the end-to-end runs (pytest -m slow), under two minutes.
test-fast: setup
	$(BIN)/pytest -m "not slow"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
