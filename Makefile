# `make run`: set up .venv if needed and run the main job; `make test`: set up and run pytest.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gradscope-installed
TORCH_STAMP := $(VENV)/.torch-installed
# PyTorch for the parity tests only (`make test`, not `make run`); `make test TORCH=` skips it.
# Pinned: where the CPU wheel lies on local disk this takes it, not a multi-gigabyte CUDA build.
TORCH ?= torch==2.13.0
OUT ?= runs/main

.PHONY: run test lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Stamped once per venv (order-only on $(STAMP), so a changed pyproject.toml does not reinstall it).
# Where the install fails the tests still run and those that need torch skip; it is tried again
# on the next `make test`.
$(TORCH_STAMP): | $(STAMP)
	@if [ -z '$(TORCH)' ]; then exit 0; \
	elif $(BIN)/python -m pip install --quiet '$(TORCH)' >$(VENV)/torch-install.log 2>&1; then touch $@; \
	else echo "note: could not install $(TORCH) (see $(VENV)/torch-install.log);" \
	  "the PyTorch parity tests will be skipped" >&2; fi

run: $(STAMP)
	$(BIN)/gradscope compare --arch rnn,lstm,gru --forget-bias 0,1 --scale 0.5,1,1.5 --out $(OUT) --force

test: $(STAMP) $(TORCH_STAMP)
	$(BIN)/python -m pytest -q -n 2  # two workers: most tests wait on one core (tracing, subprocesses)

lint: $(STAMP)
	$(BIN)/ruff check gradscope tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_cpu.py
	$(BIN)/python benchmarks/run_cli.py

# docs/cli.md from the Typer app (tests/test_docs.py fails until it is current)
docs: $(STAMP)
	$(BIN)/python -m gradscope.cli.docs docs/cli.md

clean:
	rm -rf $(VENV) runs .pytest_cache
