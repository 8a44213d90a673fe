# `make run`: set up .venv if needed and run the main job; `make test`: set up and run pytest.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gradscope-installed
OUT ?= runs/main

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gradscope compare --arch rnn,lstm,gru --scale 0.5,1,1.5 --out $(OUT) --force

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2  # two workers: most tests wait on one core (tracing, subprocesses)

lint: $(STAMP)
	$(BIN)/ruff check gradscope tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_cpu.py
	$(BIN)/python benchmarks/run_cli.py

clean:
	rm -rf $(VENV) runs .pytest_cache
