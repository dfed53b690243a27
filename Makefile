# Two commands matter: `make demo` (set up, open the app on a demo database) and
# `make test` (set up, run every check). Both need only python3, make and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench clean lock chromium postgresql

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kinesio demo

# The printed discharge letter is checked in headless Chromium (tests/printed.py); the test
# fails without it. Installed here when missing, on Debian (as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq chromium; } || { echo \
		"make test needs Chromium: install it (Debian: apt-get install -y chromium)" >&2; exit 1; }

# Every database test runs on SQLite and on a throwaway PostgreSQL 15 cluster the tests start
# themselves (tests/pg_cluster.py); they fail without it (KINESIO_TEST_ENGINES=sqlite runs the
# SQLite half only). Installed here when missing, on Debian (as root).
postgresql:
	@[ -x /usr/lib/postgresql/15/bin/initdb ] || [ "$${KINESIO_TEST_ENGINES:-postgresql}" = sqlite ] \
		|| { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && apt-get update -qq \
		&& apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15; } \
		|| { echo "make test needs PostgreSQL 15: install it (Debian: apt-get install -y \
		postgresql-15), or run KINESIO_TEST_ENGINES=sqlite make test" >&2; exit 1; }

test: $(STAMP) chromium postgresql
	$(BIN)/ruff check kinesio_tui tests benchmarks
	$(BIN)/ruff format --check kinesio_tui tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Re-resolve the dependencies in a throw-away venv and record the versions in constraints.txt.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
