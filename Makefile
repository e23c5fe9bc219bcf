# The course's commands. Everything runs inside .venv, which `make lab` and
# `make test` create on first use, so a fresh machine needs only Python 3.11.
#
#   make lab        install into .venv and open JupyterLab on lectures/ (ARGS="--port=9999 --no-browser")
#   make test       ruff + the whole test suite (what CI runs)
#   make bench      print the benchmark figures

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: lab test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab lectures/ $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check nnkit tests benchmarks
	$(BIN)/ruff format --check nnkit tests benchmarks

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
