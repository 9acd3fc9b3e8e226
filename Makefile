# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: run test lint format test-sqlite test-postgres migration bench demo-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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
