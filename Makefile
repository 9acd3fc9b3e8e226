# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Every dependency pinned, with its hashes (dev tools included); the image's runtime subset.
LOCK := requirements-lock.txt
DOCKER_LOCK := requirements-docker.txt
LATEST_VENV ?= .venv-latest
TOOLS_VENV ?= .venv-tools
UV_VERSION ?= 0.13.8
UV_COMPILE = $(TOOLS_VENV)/bin/uv pip compile pyproject.toml --no-config --universal \
	--python-version 3.11 --generate-hashes --index-url https://pypi.org/simple \
	--custom-compile-command "make lock" --quiet

.PHONY: run test lint format test-sqlite test-postgres test-latest lock migration bench demo-data

# The locked versions, checked against their hashes, then the project itself without its
# dependencies (all already there).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
		echo "$(LOCK) is behind pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

## Start the bot (migrations are applied first). Needs TELEGRAM_BOT_TOKEN in .env.
run: $(STAMP)
	$(PY) -m bot

## Lint, then the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set or in CI.
test: lint test-sqlite test-postgres

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-sqlite: $(STAMP)
	env -u TEST_DATABASE_URL $(VENV)/bin/pytest

test-postgres: $(STAMP)
	@if [ -n "$$TEST_DATABASE_URL" ] || [ "$$CI" = "true" ]; then \
		echo "PostgreSQL lane: $${TEST_DATABASE_URL:-$(PG_TEST_URL)}"; \
		TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}" $(VENV)/bin/pytest; \
	else \
		echo "PostgreSQL lane skipped: set TEST_DATABASE_URL=$(PG_TEST_URL) to run it."; \
	fi

## The suite on the newest versions pyproject.toml allows (not the lock), in $(LATEST_VENV)
test-latest:
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	@$(LATEST_VENV)/bin/python -m pip list --format=freeze \
		| grep -iE '^(python-telegram-bot|sqlalchemy|sqlmodel|aiosqlite|asyncpg|holidays)=='
	env -u TEST_DATABASE_URL $(LATEST_VENV)/bin/pytest -p no:cacheprovider
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(LATEST_VENV)/bin/pytest -p no:cacheprovider; fi

## Re-resolve the locks from pyproject.toml: after adding, removing or bumping a dependency
lock:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(UV_COMPILE) --extra dev --output-file $(LOCK)
	$(UV_COMPILE) --constraint $(LOCK) --output-file $(DOCKER_LOCK)

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## New Alembic revision from the models: make migration m="what changed"
migration: $(STAMP)
	rm -f $(VENV)/migration-scratch.sqlite3
	$(PY) -c "from alembic import command; from bot.db import alembic_config; \
	c = alembic_config('sqlite+aiosqlite:///$(VENV)/migration-scratch.sqlite3'); \
	command.upgrade(c, 'head'); command.revision(c, message='$(m)', autogenerate=True)"

## Benchmarks on SQLite and the local PostgreSQL (minutes; see README, Performance)
bench: $(STAMP)
	$(PY) -m bench

## A realistic year of demo data in the configured database
demo-data: $(STAMP)
	$(PY) -m bot demo-data --people 800
