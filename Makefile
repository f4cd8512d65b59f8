# Set-up is part of every target: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test`: one per core.
TEST_WORKERS ?= auto

.PHONY: demo test run lint serve clean browser js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

# Debian's Chromium for the browser test of index.html; where it cannot be installed (no root,
# no apt), that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || \
	  { apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } || \
	  echo "chromium could not be installed: the browser test will be skipped"

# The JavaScript clients the tests read the tree with (ical.js, axe-core, the Nu Html Checker),
# into tests/js/node_modules; without npm those tests skip and say why.
JS_STAMP := tests/js/node_modules/.installed
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the ical.js, axe-core and Nu validator tests will be skipped"; fi

js: $(JS_STAMP)

demo: $(STAMP)  ## serve the bundled demo sites on 127.0.0.1, run the pipeline, write public/
	$(BIN)/regiofeed demo

test: $(STAMP) browser js  ## the whole test suite (PostgreSQL too when REGIOFEED_TEST_POSTGRES is set)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS)

run: $(STAMP)  ## one run over the real region's sources (needs internet)
	$(BIN)/regiofeed run --sources sources.toml

serve: $(STAMP)  ## serve public/ on http://127.0.0.1:8080/
	$(BIN)/regiofeed serve

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) public .public.* data .pytest_cache
