# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
# This machine has the CPU build of torch 2.13.0 on local disk; elsewhere pass any torch >= 2.2,
# e.g. `make test TORCH='torch>=2.2'`.
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: setup demo test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup_kenlm.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	scripts/setup_kenlm.sh $(VENV)
	touch $@

# The embedded default: train a small LSTM on the bundled War and Peace sample (about a minute
# on 2 CPU cores, no network), then evaluate it on the test split and sample from it.
DEMO_RUN := runs/demo
demo: setup
	rm -rf $(DEMO_RUN)
	$(BIN)/zoo train --model lstm-2x128 --data sample --epochs 4 --batch-size 32 --seq-length 64 --out $(DEMO_RUN)
	$(BIN)/zoo eval --model $(DEMO_RUN)
	$(BIN)/zoo sample --model $(DEMO_RUN) --prime "The " --temperature 0.8 -n 300 --seed 1

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/architectures.py

clean:
	rm -rf $(VENV) build *.egg-info
