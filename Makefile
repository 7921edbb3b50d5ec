# NextAlerts. `make run` serves the product locally (HOST and PORT choose where); `make test` runs the whole test suite.
# Both create .venv with the locked dependencies first; only Python 3.11+ is needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint lock worker beat check-deploy clean bench

install: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
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

# Throughput and STOP-latency figures on PostgreSQL (see README, "Performance"); empties DATABASE_URL, which defaults
# to postgres://postgres@127.0.0.1:5432/nextalerts_bench. Options: make bench BENCH_ARGS=--help
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Replies on a worker of their own, campaigns on another (nextalerts/workers.py); Ctrl-C stops both.
worker: install
	$(BIN)/python -m nextalerts.workers

beat: install
	$(BIN)/celery -A nextalerts beat --loglevel=INFO

# Regenerate requirements.lock from the pins in pyproject.toml (needs the index).
lock: install
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

check-deploy: install
	DEBUG=false SECRET_KEY=check-deploy-only-$$(date +%s)-a-long-random-looking-value-0123456789 \
	PHONE_HASH_KEY=check-deploy-only-phone-hash-key-0123456789 ALLOWED_HOSTS=example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
