# The two commands: `make run` (service on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-py test-mp lint fmt migrate demo bench install clean chromium node

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[embedded,test]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/yimen migrate
	$(BIN)/yimen demo
	$(BIN)/yimen serve

# The browser tests drive Debian's chromium (headless, through playwright).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get install -y chromium || (apt-get update && apt-get install -y chromium); \
	fi

# The mini-program's jest suite needs Node.js and npm (Debian's packages when missing).
node:
	@if ! command -v npm >/dev/null 2>&1; then \
		apt-get install -y nodejs npm || (apt-get update && apt-get install -y nodejs npm); \
	fi

MP_STAMP := miniprogram/node_modules/.installed
$(MP_STAMP): miniprogram/package-lock.json | node
	cd miniprogram && npm ci --no-audit --no-fund
	@touch $(MP_STAMP)

test: test-mp test-py

test-mp: $(MP_STAMP)
	cd miniprogram && npm test --silent

test-py: install chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install
	$(BIN)/yimen migrate

demo: install
	$(BIN)/yimen demo

bench: install
	@if ls bench/bench_*.py >/dev/null 2>&1; then \
		for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done; \
	else echo "no benchmarks yet (bench/ is empty)"; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache miniprogram/node_modules
