# A new machine needs Python 3.11+ (with venv and pip) and nothing else: the first target run creates .venv.
# That floor is the developer's and CI's machine; the functions themselves run on Function Compute's
# python3.12 runtime (s.yaml). Another interpreter: `make PYTHON=python3.12 demo`.
PYTHON       ?= python3
PYTHON_FLOOR := 3.11
VENV         ?= .venv
BIN          := $(VENV)/bin
# One stamp per requirement set: demo, package and bench get the runtime only; test and lint the dev tools too.
# pyproject.toml is in both: it declares the `ecs-renewal` command that make installs (editable, --no-deps).
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP     := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
PIP           := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: help install install-runtime check-python test check-fresh demo demo-scale lint emulator package bench clean

help:
	@echo "make demo   - run the nightly cycle (scan, renew, audit) against the bundled ECS emulator"
	@echo "make demo-scale - 3 accounts x 6 regions, fanned out through (emulated) Function Compute"
	@echo "make test   - run the test suite"
	@echo "make check-fresh - clone HEAD into an empty folder: the suite collects there, nothing read outside"
	@echo "make lint   - ruff"
	@echo "make emulator - start the emulator on 127.0.0.1:18080 (Ctrl-C to stop)"
	@echo "make package  - for Function Compute python3.12 (Linux x86_64): the dependencies' layer"
	@echo "              build/ecs-renewal-deps.zip and build/<function>/; then publish the layer, s deploy (README)"
	@echo "make bench  - ours vs the documented sample's call pattern, 8 regions x 1,000 at a 20/s quota per (region,"
	@echo "              action) with the minute block, plus a 5/s minute-block renew without ECS_MAX_QPS (~2-3 min;"
	@echo "              BENCH_ARGS=--quick for seconds)"
	@echo "Needs Python $(PYTHON_FLOOR)+ as '$(PYTHON)' (override: make PYTHON=python3.12 ...); .venv/bin/ecs-renewal is the command line."

comma := ,
# $(call require_python,INTERPRETER): stop with a message naming the interpreter to use when INTERPRETER is
# missing or older than the floor (the version is compared with sort -V, so 3.9 < 3.10 < 3.11).
define require_python
found=$$($(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
if [ -z "$$found" ] || [ "$$(printf '%s\n%s\n' "$(PYTHON_FLOOR)" "$$found" | sort -V | head -n1)" != "$(PYTHON_FLOOR)" ]; then \
	echo "error: ecs-renewal needs Python $(PYTHON_FLOOR) or newer (with venv and pip) to run its demo and tests;" >&2; \
	if [ -z "$$found" ]; then echo "       '$(1)' cannot be run here." >&2; \
	else echo "       '$(1)' is Python $$found." >&2; fi; \
	for candidate in python3.14 python3.13 python3.12 python3.11; do \
		if $$candidate -c 'import sys, venv; sys.exit(sys.version_info < ($(subst .,$(comma) ,$(PYTHON_FLOOR))))' >/dev/null 2>&1; then \
			echo "       $$candidate is installed: run  make PYTHON=$$candidate $(or $(MAKECMDGOALS),help)" >&2; break; fi; \
	done; \
	echo "       Otherwise install python3.12 (e.g. apt-get install python3.12 python3.12-venv, or pyenv), then" >&2; \
	echo "       make PYTHON=python3.12 $(or $(MAKECMDGOALS),help)$(if $(filter $(BIN)/python,$(1)),   (after: rm -rf $(VENV)))" >&2; \
	exit 1; \
fi
endef

# Only the check (tests/deploy/test_python_floor.py runs it with stand-in interpreters).
check-python:
	@$(call require_python,$(PYTHON))
	@echo "$(PYTHON) is Python $$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'): ok (floor $(PYTHON_FLOOR))"

$(BIN)/python:
	@$(call require_python,$(PYTHON))
	@$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt pyproject.toml | $(BIN)/python
	@$(call require_python,$(BIN)/python)
	@echo "installing the runtime dependencies (requirements.txt) and the ecs-renewal command into $(VENV) ..."
	@$(PIP) -r requirements.txt
	@$(PIP) --no-deps --editable .
	@rm -f $(VENV)/.installed-runtime-* && touch $@

# The dev set includes the runtime set (requirements-dev.txt starts with -r requirements.txt).
$(DEV_STAMP): requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	@$(call require_python,$(BIN)/python)
	@echo "installing the development dependencies (requirements-dev.txt) and the ecs-renewal command into $(VENV) ..."
	@$(PIP) -r requirements-dev.txt
	@$(PIP) --no-deps --editable .
	@rm -f $(VENV)/.installed-runtime-* $(VENV)/.installed-dev-* && touch $@ $(RUNTIME_STAMP)

install: $(DEV_STAMP)

install-runtime: $(RUNTIME_STAMP)

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

check-fresh: $(DEV_STAMP)
	$(BIN)/python scripts/check_fresh.py

demo: $(RUNTIME_STAMP)
	@$(BIN)/python scripts/demo.py

demo-scale: $(RUNTIME_STAMP)
	@$(BIN)/python scripts/demo_scale.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

emulator: $(RUNTIME_STAMP)
	$(BIN)/ecs-renewal emulator --port 18080

package: $(RUNTIME_STAMP)
	$(BIN)/python scripts/package.py

bench: $(RUNTIME_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
