# Campaign Desk: `make run` serves the demo county, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-sqlite test-postgres i18n i18n-missing translations serve bench bench-slow-client bench-phone clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/python tools/i18n.py compile

## Install, migrate, load the demo county when the database is empty, print the logins, serve.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) run --host $(HOST) --port $(PORT)

## Production-like: gunicorn with gunicorn.conf.py (gthread workers that survive slow uploads), as deploy/ runs it.
serve: install
	$(FLASK) db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

## The whole suite, on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	$(BIN)/pytest

## Re-extract strings and merge them into the catalogues; list what still lacks Chinese.
i18n: $(STAMP)
	$(BIN)/python tools/i18n.py update
	$(BIN)/python tools/i18n.py missing

bench: install
	$(BIN)/python bench/unit_import.py

## A phone on 3G: a 5 MB two-photo report sent over 60 s, to make serve's gunicorn and to the old sync default.
bench-slow-client: install
	$(BIN)/python bench/slow_client.py

## A village phone over throttled 3G (Chromium): report with two photos under make serve's gunicorn, and with the link cut.
bench-phone: install
	$(BIN)/python bench/phone_journey.py

clean:
	rm -rf $(VENV) .pytest_cache
