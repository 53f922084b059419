# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
# This machine has the CPU build of torch 2.13.0 on local disk; elsewhere pass any torch >= 2.2,
# e.g. `make test TORCH='torch>=2.2'`.
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: setup demo test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: setup
	$(BIN)/zoo list 'lstm-*.warpeace'
	$(BIN)/zoo info lstm-3x512
	$(BIN)/zoo info nlstm-1x600.text8

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/architectures.py

clean:
	rm -rf $(VENV) build *.egg-info
