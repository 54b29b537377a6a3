# Two commands for a new machine: `make run` and `make test` (see README).
# The first interpreter that runs and is 3.11+ (pyenv shims may exist for inactive versions).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test install install-dev lint format translations bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## make run: install, prepare instance/ (SQLite, keys, sample course, demo LMS) and serve.
run: install
	DEMO=1 $(BIN)/lti-tool init --demo
	DEMO=1 $(BIN)/lti-tool serve --workers 2 --threads 4

## make test: lint, then the whole suite.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Extract strings, update catalogs, compile (run after changing user-facing text).
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o lti_tool/translations/messages.pot .
	$(BIN)/pybabel update -i lti_tool/translations/messages.pot -d lti_tool/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d lti_tool/translations
	@for dir in plugins/*/translations; do \
	  plugin=$${dir%/translations}; \
	  $(BIN)/pybabel extract -F $$plugin/babel.cfg -k _l -k lazy_gettext -o $$dir/messages.pot $$plugin && \
	  $(BIN)/pybabel update -i $$dir/messages.pot -d $$dir --no-fuzzy-matching && \
	  $(BIN)/pybabel compile -d $$dir || exit 1; \
	done

bench: install-dev
	$(BIN)/python bench/launch.py
	$(BIN)/python bench/quiz_burst.py
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/passback.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
