# Two commands: `make run` (development server) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format bench bench-http bench-search bench-email bench-images loadtest lighthouse migrate seed worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

## run: development server with DEBUG on, seeded, at http://127.0.0.1:8000
run: $(RUNTIME_STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_content
	@# The email worker, the protocols' scheduler and the review reminders run beside the dev
	@# server (emails print to this console unless EMAIL_HOST is set).
	@export DJANGO_DEBUG=1; \
	$(BIN)/python manage.py db_worker --interval 1 --no-startup-delay & worker=$$!; \
	$(BIN)/python manage.py send_due_steps --every 60 >/dev/null & scheduler=$$!; \
	$(BIN)/python manage.py send_review_reminders --every 86400 >/dev/null & reminders=$$!; \
	trap 'kill $$worker $$scheduler $$reminders 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## serve: the same data through gunicorn with DEBUG off, plus the email worker, the scheduler,
## the data-retention purge and the review reminders
serve: $(RUNTIME_STAMP)
	@mkdir -p var
	@[ -n "$$DJANGO_SECRET_KEY" ] || [ -s var/secret_key ] || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
	@export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key)}" DJANGO_HTTPS="$${DJANGO_HTTPS:-0}" \
	  SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	set -e; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0; \
	$(BIN)/python manage.py seed_content; \
	$(BIN)/python manage.py db_worker & worker=$$!; \
	$(BIN)/python manage.py send_due_steps --every 60 >/dev/null & scheduler=$$!; \
	$(BIN)/python manage.py purge_expired --every 86400 >/dev/null & purger=$$!; \
	$(BIN)/python manage.py send_review_reminders --every 86400 >/dev/null & reminders=$$!; \
	trap 'kill $$worker $$scheduler $$purger $$reminders 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn site_config.wsgi --bind $(HOST):$(PORT)

## worker: the email queue worker on its own
worker: $(RUNTIME_STAMP)
	$(BIN)/python manage.py db_worker

## test: ruff, then the whole pytest suite in random order, in PYTEST_WORKERS processes (pytest-xdist;
## PYTEST_WORKERS=0 runs one process); browser tests skip without Chromium unless REQUIRE_BROWSER=1
PYTEST_WORKERS ?= 2
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

## bench: every page type under gunicorn (production config) against the static-file ceiling
## with wrk, then the search benchmark at 10,000 articles (`make bench-search` runs every size),
## then the program's emails at 10,000 subscribers (`make bench-email`)
bench: bench-http
	$(MAKE) --no-print-directory bench-search BENCH_SEARCH_ARGS="$(or $(BENCH_SEARCH_ARGS),--sizes 10000)"
	$(MAKE) --no-print-directory bench-email

## bench-http: only the HTTP benchmark, e.g. BENCH_ARGS="--duration 10 --workers 2 --no-page-cache"
bench-http: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/http_bench.py $(BENCH_ARGS)

## bench-search: search_articles() and /search/ at 10,000 and 100,000 generated articles on SQLite
## and PostgreSQL, in throwaway databases (several minutes), e.g.
## BENCH_SEARCH_ARGS="--sizes 10000 --backends sqlite"
bench-search: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/bench_search.py $(BENCH_SEARCH_ARGS)

## bench-email: one send_due_steps pass and one db_worker over 10,000 due program steps, against
## an SMTP server on loopback, in a throwaway database (SQLite; PostgreSQL when DATABASE_URL says so),
## e.g. BENCH_EMAIL_ARGS="--subscribers 100000 --worker-tasks 20" or "--profile var/profiles"
bench-email: $(DEV_STAMP)
	$(BIN)/python benchmarks/email_bench.py $(BENCH_EMAIL_ARGS)

## bench-images: the worker's renditions of a 4000 x 3000 photo, and the article page's weight
## at 375 px with its hero (gunicorn, Chromium), e.g. BENCH_IMAGES_ARGS="--lighthouse"
bench-images: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench_images.py $(BENCH_IMAGES_ARGS)

## loadtest: bounded load and fault tests on loopback (signup storms on SQLite and PostgreSQL,
## publishing under read load, SMTP outage); CI runs it
loadtest: $(DEV_STAMP)
	RUN_LOADTESTS=1 $(BIN)/pytest tests/production/test_load.py -v $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## lighthouse: Lighthouse scores (mobile) of four pages served by gunicorn with DEBUG off
# The npm package goes into var/lighthouse (pinned; 13.x needs Node 22.19+, Debian has 20).
# It never downloads a browser: it drives the system Chromium through CHROME_PATH.
LIGHTHOUSE_VERSION ?= 12.8.2
LIGHTHOUSE_PREFIX := var/lighthouse
lighthouse: $(RUNTIME_STAMP)
	@mkdir -p $(LIGHTHOUSE_PREFIX)
	@[ "$$($(LIGHTHOUSE_PREFIX)/node_modules/.bin/lighthouse --version 2>/dev/null)" = "$(LIGHTHOUSE_VERSION)" ] || \
	  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix $(LIGHTHOUSE_PREFIX) --save-exact --no-audit --no-fund \
	    --loglevel=error lighthouse@$(LIGHTHOUSE_VERSION)
	CHROME_PATH="$${CHROME_PATH:-$$(command -v chromium || command -v chromium-browser)}" \
	  $(BIN)/python benchmarks/lighthouse.py $(LIGHTHOUSE_ARGS)

clean:
	rm -rf $(VENV) var/cache var/staticfiles
