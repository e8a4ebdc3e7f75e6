# Everything a new machine needs: only python3 (3.10+) and pip. The first target run creates .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help install test demo demo-scale lint emulator package bench clean

help:
	@echo "make demo   - run the nightly cycle (scan, renew, audit) against the bundled ECS emulator"
	@echo "make demo-scale - 3 accounts x 6 regions, fanned out through (emulated) Function Compute"
	@echo "make test   - run the test suite"
	@echo "make lint   - ruff"
	@echo "make emulator - start the emulator on 127.0.0.1:18080 (Ctrl-C to stop)"
	@echo "make package  - for Function Compute python3.12 (Linux x86_64): the dependencies' layer"
	@echo "              build/ecs-renewal-deps.zip and build/<function>/; then publish the layer, s deploy (README)"
	@echo "make bench  - ours vs the documented sample's call pattern, 20 regions x 1,000 instances (~6 min;"
	@echo "              BENCH_ARGS=--quick for seconds)"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	@$(BIN)/python scripts/demo.py

demo-scale: $(STAMP)
	@$(BIN)/python scripts/demo_scale.py

lint: $(STAMP)
	$(BIN)/ruff check .

emulator: $(STAMP)
	PYTHONPATH=shared $(BIN)/python -m ecs_emulator --port 18080

package: $(STAMP)
	$(BIN)/python scripts/package.py

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
