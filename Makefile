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

## Debian's chromium and chromedriver for the end-to-end tests (tests/e2e): selenium never
## downloads a browser. Without apt (or root) the E2E tests are skipped, saying why.
.PHONY: browser
browser:
	@test -x /usr/bin/chromedriver || { \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null; } 2>/dev/null \
	  || echo "chromium and chromium-driver could not be installed: the E2E tests will be skipped"; }

## axe-core from the npm registry for the accessibility checks of the E2E tests (run in
## every page of their paths); without npm those checks fail saying so.
AXE_VERSION := 4.11.1
AXE_JS := .cache/axe/node_modules/axe-core/axe.min.js
.PHONY: axe
axe:
	@grep -qs '"version": "$(AXE_VERSION)"' .cache/axe/node_modules/axe-core/package.json && test -f $(AXE_JS) || \
	  npm install --no-save --no-audit --no-fund --silent --prefix .cache/axe axe-core@$(AXE_VERSION) \
	  || echo "axe-core could not be installed (npm missing?): the E2E accessibility checks will fail"

## make test: lint, then the whole suite, in TEST_WORKERS processes (pytest-xdist: the
## tests mostly wait on servers and sockets, so three processes fit two cores).
TEST_WORKERS ?= 3
test: install-dev browser axe
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS)

## make test-pg: the same suite (but the browser tests, which `make test` runs) on
## PostgreSQL, Redis and S3-compatible storage (moto's
## server, started by the tests): each test gets its own database, key prefix and bucket.
## PostgreSQL and Redis must run on 127.0.0.1 (.ci/run installs and starts them).
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
.PHONY: test-pg
test-pg: install-dev browser axe
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) TEST_STORAGE_URL=s3 \
	  $(BIN)/pytest -n $(TEST_WORKERS) -m "not e2e"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make audit: known vulnerabilities of the installed dependencies (pip-audit against
## PyPI's advisory data; the tool's own editable install is skipped). Fails on a
## vulnerability, and when packages could not be checked (advisory data unreachable).
.PHONY: audit
audit: install-dev
	@$(BIN)/pip-audit --progress-spinner off --skip-editable -f json -o $(VENV)/audit.json \
	  >/dev/null 2>$(VENV)/audit.log; status=$$?; \
	  $(BIN)/python .ci/audit.py $(VENV)/audit.json $$status \
	  || { echo "(pip-audit's own log: $(VENV)/audit.log)"; exit 1; }

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

## make bench: every benchmark on SQLite (bench/README.md: what each measures, the goals,
## the figures); each prints a line per figure with PASS/MISS and a JSON line last. The
## soak lasts SOAK_MINUTES (default 10).
SOAK_MINUTES ?= 10
BENCH_ARGS ?=
REPORTS_ARGS ?=
bench: install-dev
	$(BIN)/python bench/launch.py $(BENCH_ARGS)
	$(BIN)/python bench/quiz_burst.py $(BENCH_ARGS)
	$(BIN)/python bench/passback.py $(BENCH_ARGS)
	$(BIN)/python bench/reports.py $(REPORTS_ARGS)
	$(BIN)/python bench/upload.py $(BENCH_ARGS)
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) $(BENCH_ARGS)

## make bench-pg: the same on PostgreSQL and Redis: a database `bench` of its own (made
## empty before each benchmark, dropped at the end) and Redis keys under a prefix of
## each run's own in BENCH_REDIS_URL's database (deleted after the run).
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/7
.PHONY: bench-pg
bench-pg: install-dev
	$(BIN)/python bench/common.py createdb $(BENCH_PG_URL)
	$(MAKE) --no-print-directory bench SOAK_MINUTES=$(SOAK_MINUTES) \
	  BENCH_ARGS="--database-url $(BENCH_PG_URL) --redis-url $(BENCH_REDIS_URL)" \
	  REPORTS_ARGS="--database-url $(BENCH_PG_URL)"; \
	  status=$$?; $(BIN)/python bench/common.py dropdb $(BENCH_PG_URL); exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
