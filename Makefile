# Everything a new machine needs: only python3 (3.10+) and pip. The first target run creates .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help install test demo lint emulator package clean

help:
	@echo "make demo   - run the nightly cycle (scan, renew, audit) against the bundled ECS emulator"
	@echo "make test   - run the test suite"
	@echo "make lint   - ruff"
	@echo "make emulator - start the emulator on 127.0.0.1:18080 (Ctrl-C to stop)"
	@echo "make package  - build/<function>/ for Function Compute (python3.10, Linux x86_64), then: s deploy"

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

lint: $(STAMP)
	$(BIN)/ruff check .

emulator: $(STAMP)
	PYTHONPATH=shared $(BIN)/python -m ecs_emulator --port 18080

package: $(STAMP)
	$(BIN)/python scripts/package.py

clean:
	rm -rf $(VENV) build .pytest_cache
