# The two commands of README.md:
#   make book   builds the website into _build/html
#   make test   runs every test (unit, notebooks, site, real browser)
# Both create .venv and install requirements.lock on first use.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Notebooks run on the CPU, without progress bars, exactly as their outputs were stored.
NB_ENV := MBGD_PROGRESS=0 MBGD_DEVICE=cpu PYTHONHASHSEED=0
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
# Notebooks stored with outputs (compared by nbval) and student notebooks (run only).
STORED := $(wildcard chapters/*/*.ipynb solutions/*.ipynb)
EXERCISES := $(wildcard exercises/*.ipynb)
PYTEST := $(NB_ENV) $(BIN)/pytest -n 2 --dist loadfile -p no:cacheprovider

.PHONY: book test system execute clean

book: $(STAMP)
	$(BIN)/jupyter-book build . -n -W --keep-going

test: book system
	$(PYTEST) mbgd tests
	$(PYTEST) --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg $(STORED)
	$(if $(EXERCISES),$(PYTEST) --nbval-lax $(EXERCISES))

# Re-execute notebooks in place (after editing one): make execute NB="path.ipynb ..."
execute: $(STAMP)
	$(BIN)/python tools/execute.py $(NB)

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Two Debian packages the tests use: Chromium (driven by Playwright, no browser
# download) for the site check, and bubblewrap, the grader's sandbox.
system:
	@command -v chromium >/dev/null && command -v bwrap >/dev/null || { \
	  echo "Installing Debian's chromium and bubblewrap for the tests (needs root)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends chromium bubblewrap >/dev/null; }

clean:
	rm -rf _build
