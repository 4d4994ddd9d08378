# tisiwatch — two commands do all set-up on a fresh machine:
#   make demo   set up, then run `tisiwatch demo` end to end against the local demo marketplaces
#   make test   set up, then lint, type-check and run the whole test suite (as CI does)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHAINLP_READ_ONLY := 1

.PHONY: demo test setup system services lint types unit clean

demo: setup
	$(BIN)/tisiwatch demo

test: setup services lint types unit

setup: system $(STAMP)

system:
	@bash .ci/system-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

services:
	@bash .ci/services

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var demo-run .pytest_cache .mypy_cache .ruff_cache
