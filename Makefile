# Marquee — `make run` starts everything, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export PORT ?= 8000
export RTMP_PORT ?= 1935
export MEDIA_HTTP_PORT ?= 8081
# honcho gives each Procfile process its own PORT (web's +100, +200, ...): tell
# the media server where the web process really listens.
export MEDIA_HOOK_BASE_URL ?= http://127.0.0.1:$(PORT)
# Quiet installs: no "new release of pip" notice on every run.
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# PostgreSQL + Redis used by the second test run (CI starts both); with
# TEST_WORKERS=N the run uses Redis databases 0 to N-1 of this server.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/marquee
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Which set-ups `make test` covers: "sqlite postgres" (default) or one of them.
TEST_SETUPS ?= sqlite postgres
PYTEST_ARGS ?=
SYSTEM_PACKAGES := nginx libnginx-mod-rtmp ffmpeg fonts-dejavu-core chromium

.PHONY: run test lint format deps sysdeps static migrate seed screenshots test-sqlite test-postgres bench clean audit mutation deploy-check cluster cluster-faults cluster-down

deps: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json scripts/copy-vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	@touch $@

# System packages (media server, ffmpeg, browser for tests, and venv/npm when
# missing): installed with
# apt-get when we are root, otherwise we stop and say what to run.
sysdeps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

static: deps
	$(PY) manage.py collectstatic --noinput -v 0

migrate: deps
	$(PY) manage.py migrate --noinput -v 0

seed: migrate
	$(PY) manage.py seed_demo

run: sysdeps deps static seed
	$(BIN)/honcho start -f Procfile

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: sysdeps deps lint audit
	DATABASE_URL= REDIS_URL= $(PY) manage.py makemigrations --check --dry-run
	@for setup in $(TEST_SETUPS); do $(MAKE) --no-print-directory test-$$setup || exit 1; done

# Each set-up runs in two parts: the tests that need no browser or media
# server in TEST_WORKERS processes (pytest-xdist), then the browser and media
# tests one at a time (nginx, ffmpeg and Chromium keep their timings only with
# the cores to themselves).  Workers share nothing: on SQLite each has its own
# in-memory database and caches; on PostgreSQL + Redis pytest-django gives
# worker gwN its own test database and marquee/settings.py its own Redis
# database (TEST_REDIS_URL's number + N) and key prefix.  Exit 5 (nothing
# selected, e.g. PYTEST_ARGS names one file) is not a failure.
TEST_WORKERS ?= 2
test-sqlite: SUITE = the embedded default (SQLite, in-memory layers)
test-sqlite: SUITE_ENV = DATABASE_URL= REDIS_URL=
test-postgres: SUITE = PostgreSQL + Redis
test-postgres: SUITE_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)
test-sqlite test-postgres: deps
	@echo "== test suite on $(SUITE) =="
	$(SUITE_ENV) $(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) -m "not browser and not media" $(PYTEST_ARGS); \
	  rc=$$?; [ $$rc = 0 ] || [ $$rc = 5 ]
	$(SUITE_ENV) $(BIN)/pytest -p no:cacheprovider -m "browser or media" $(PYTEST_ARGS); \
	  rc=$$?; [ $$rc = 0 ] || [ $$rc = 5 ]

# Known-vulnerability check of every installed dependency (pip-audit, PyPI's
# advisory data).  --strict: a package that could not be checked is a failure,
# so an unreachable advisory service never passes silently.  SKIP_AUDIT=1
# skips it (offline development only; never in CI).
PIP_AUDIT_SERVICE ?= pypi
audit: deps
	@if [ "$(SKIP_AUDIT)" = 1 ]; then echo "== pip-audit SKIPPED (SKIP_AUDIT=1) =="; exit 0; fi; \
	echo "== pip-audit ($(PIP_AUDIT_SERVICE)) =="; mkdir -p var; \
	$(BIN)/pip-audit --skip-editable --progress-spinner off -s $(PIP_AUDIT_SERVICE) > var/pip-audit.log 2>&1; rc=$$?; \
	unaudited=$$(grep -c "could not be audited" var/pip-audit.log); \
	if [ $$rc -ne 0 ]; then cat var/pip-audit.log; echo "pip-audit FAILED: known vulnerabilities (above)"; exit 1; fi; \
	if [ "$$unaudited" -gt 0 ]; then \
	  echo "pip-audit WARNING: $$unaudited packages could not be audited: the vulnerability service ($(PIP_AUDIT_SERVICE))"; \
	  echo "  has no data for them from this network (see var/pip-audit.log; set PIP_AUDIT_STRICT=1 to fail on this)."; \
	  if [ "$(PIP_AUDIT_STRICT)" = 1 ]; then exit 1; fi; \
	fi; tail -n 1 var/pip-audit.log

# Benchmarks (never part of `make test`): installs what they need (wrk, the
# PostgreSQL client tools for pgbench) and runs each one on PostgreSQL + Redis,
# printing each figure with the limit measured in the same run where there is
# one.  BENCH=tips runs one; figures and method are in docs/benchmarks.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/marquee_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH ?= tips tips_http playback_auth chat_fanout recommendations earnings pages latency transcode privates
BENCH_SYSTEM_PACKAGES := wrk postgresql-client
bench: sysdeps deps static
	@missing=""; for p in $(BENCH_SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	@psql "$(BENCH_DATABASE_URL)" -c 'select 1' >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres marquee_bench
	@for b in $(BENCH); do \
	  echo "== bench/$$b (load average: $$(cut -d' ' -f1-3 /proc/loadavg)) =="; \
	  DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) CACHE_KEY_PREFIX=bench \
	    $(PY) bench/$$b/run.py || exit 1; \
	done

# Mutation testing (slow; not part of `make test`): mutmut, one target module
# at a time, SQLite set-up.  MUTATE picks targets from [tool.marquee.mutation]
# in pyproject.toml (default: all of them), e.g. `make mutation MUTATE=marquee/ledger`.
# Results stay in var/mutation/<target>/; `cd` there and `mutmut results` /
# `mutmut show NAME` / `mutmut browse` to read them.
MUTATE ?=
MUTATION_CHILDREN ?= 1
mutation: deps
	DATABASE_URL= REDIS_URL= $(PY) scripts/mutation.py --max-children $(MUTATION_CHILDREN) $(MUTATE)

# Deployment files (deploy/): structural checks of the manifests and compose
# file, the edge's nginx config through `nginx -t` and a live signed-URL check;
# `docker compose config` too when docker is installed (it is not on the
# project machines).  No registry or cluster needed.
deploy-check: deps
	DATABASE_URL= REDIS_URL= $(BIN)/pytest -p no:cacheprovider -q marquee/ops/tests/test_deploy_files.py marquee/ops/tests/test_edge.py
	@if command -v docker >/dev/null 2>&1; then docker compose -f deploy/compose.yaml config -q && echo "docker compose config: OK"; \
	else echo "docker not installed: compose file checked structurally only"; fi

# The multi-node topology in network namespaces (root; see deploy/cluster/cluster.sh).
cluster: sysdeps deps static
	@if ! command -v socat >/dev/null || ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends socat redis-server postgresql curl; fi
	deploy/cluster/cluster.sh up

cluster-faults: deps
	$(PY) deploy/cluster/faults.py

cluster-down:
	deploy/cluster/cluster.sh down

# Every main page at phone and desktop size, for reviewers (not part of `make test`).
screenshots: sysdeps deps static
	$(PY) scripts/screenshots.py

clean:
	rm -rf var/staticfiles var/celery-broker
