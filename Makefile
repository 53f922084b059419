# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
# The CPU build of torch 2.13.0 by default; pass any torch >= 2.2 instead,
# e.g. `make test TORCH='torch>=2.2'`.
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: setup demo test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml tools/setup_kenlm.sh tools/setup_browser.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	tools/setup_kenlm.sh $(VENV)
	tools/setup_browser.sh
	touch $@

# The embedded default, with no network: the LSTM 2x128 that ships with the zoo (trained on the
# bundled War and Peace sample) is evaluated on its test split, sampled from, and taken apart by
# the interpretable-cells, gate-saturation and line-ends analyzers, whose HTML reports open in any
# browser.
DEMO_MODEL := lstm-2x128.sample
demo: setup
	$(BIN)/zoo eval --model $(DEMO_MODEL)
	$(BIN)/zoo sample --model $(DEMO_MODEL) --prime "The " --temperature 0.8 -n 300 --seed 1
	$(BIN)/zoo analyze --model $(DEMO_MODEL) --analyzer cells,saturation,line-ends --set excerpt_start=2000
	@echo "Open reports/$(DEMO_MODEL)/index.html in a browser: it links the three reports."

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/architectures.py

clean:
	rm -rf $(VENV) build *.egg-info
