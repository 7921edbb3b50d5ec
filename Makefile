# NextAlerts. `make run` serves the product locally (HOST and PORT choose where); `make test` runs the whole test suite.
# Both create .venv with the locked dependencies first; only Python 3.11+ is needed.
#
# Two locks, both with hashes and made by `make lock` from the pins in pyproject.toml: requirements.lock holds what
# production runs (the Dockerfile installs only it), requirements-dev.lock the same pins plus the test and lint tools
# (what .venv gets).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock 2>/dev/null | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint lock audit worker beat check-deploy clean bench

install: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	rm -f $(VENV)/.installed-*
	touch $@

# Migrates, loads the demo business, then serves the web app with a Celery worker and beat; Ctrl-C stops all three
# (nextalerts/localrun.py).
run: install
	$(BIN)/python -m nextalerts.localrun --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=. $(BIN)/lint-imports --no-cache

# Throughput and STOP-latency figures on PostgreSQL (see README, "Performance"); empties DATABASE_URL, which defaults
# to postgres://postgres@127.0.0.1:5432/nextalerts_bench. Options: make bench BENCH_ARGS=--help; some rows only:
# make bench BENCH_ARGS="--only 1,applied,scale"
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Replies on a worker of their own, campaigns on another (nextalerts/workers.py); Ctrl-C stops both.
worker: install
	$(BIN)/python -m nextalerts.workers

beat: install
	$(BIN)/celery -A nextalerts beat --loglevel=INFO

# Regenerate both locks from the pins in pyproject.toml (needs the index): the runtime lock first, then the development
# lock constrained to it, so that both hold the same runtime versions. Pins already in a lock are kept unless
# pyproject.toml asks for others, so after merging changes to pyproject.toml, run this again. pip-tools lives in a
# venv of its own inside .venv, pinned, so that it neither enters the project's environment nor changes the output.
PIP_TOOLS := pip-tools==7.7.0
LOCK_VENV := $(VENV)/lock-tools
COMPILE   := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
             --no-emit-find-links
lock:
	test -f $(LOCK_VENV)/.$(PIP_TOOLS) || { rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV) \
	    && $(LOCK_VENV)/bin/python -m pip install --quiet $(PIP_TOOLS) && touch $(LOCK_VENV)/.$(PIP_TOOLS); }
	$(COMPILE) --output-file requirements.lock pyproject.toml
	$(COMPILE) --extra dev --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml

# Known vulnerabilities of every locked version, from the advisories the package index publishes
# (.ci/audit_dependencies.py; README, "Security"). AUDIT_STRICT=true also fails when some could not be checked.
audit: install
	$(BIN)/python .ci/audit_dependencies.py requirements.lock requirements-dev.lock

# The production settings with throwaway secrets: Django's deployment checks must pass with no warning.
check-deploy: install
	DJANGO_SETTINGS_MODULE=nextalerts.settings.production \
	SECRET_KEY=check-deploy-only-$$(date +%s)-a-long-random-looking-value-0123456789 \
	PHONE_HASH_KEY=check-deploy-only-phone-hash-key-0123456789 ALLOWED_HOSTS=example.com \
	TELNYX_API_KEY=check-deploy-only TELNYX_PUBLIC_KEY=check-deploy-only \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
