# One-command entry points. Each creates/refreshes the virtualenv in .venv first.
#   make demo   - the gateway in front of the built-in emulator (installs only what it runs on)
#   make check  - the fast loop: lint, type check, the tests that need no outside tools
#   make test   - everything CI runs: lint, type check, the whole test suite
#   make clean  - remove everything the targets and the tests made
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

# `make demo DEMO_LISTEN=127.0.0.1:18080` when a port is taken
DEMO_LISTEN ?= 127.0.0.1:8080
DEMO_ADMIN ?= 127.0.0.1:9090
DEMO_EMULATOR ?= 127.0.0.1:7007

.PHONY: demo check test lint typecheck pytest bench soak clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The gateway's own dependencies only: the demo needs nothing else. constraints.txt pins
# every dependency to the versions tested (see its header).
$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

demo: $(RUNTIME_STAMP)
	$(BIN)/kinvey-gateway demo --listen $(DEMO_LISTEN) --admin-listen $(DEMO_ADMIN) \
		--emulator-listen $(DEMO_EMULATOR)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

check: lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -m "not slow and not tools"

test: lint typecheck pytest

bench: $(TEST_STAMP)
	$(BIN)/python -m bench.run

soak: $(TEST_STAMP)
	$(BIN)/python -m bench.soak --duration 600

# Everything .gitignore lists (tests/unit/test_makefile.py checks that nothing made is left).
clean:
	rm -rf $(VENV) .venv-* .mypy_cache .ruff_cache .pytest_cache .hypothesis artifacts \
		bench/results build dist
	find . \( -name __pycache__ -o -name node_modules -o -name '*.egg-info' \) \
		-type d -prune -exec rm -rf {} +
	find . -name '*.pyc' -delete
