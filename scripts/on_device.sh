#!/usr/bin/env bash
# Run a command on a GPU machine that has PyTorch but no network (as the H100 these
# reproductions used): install the zoo into that machine's python3, with the few wheels it lacks
# carried in .whl/, then run the command.
#
#   scripts/on_device.sh --fetch            # where pip works: download those wheels into .whl/
#   scripts/on_device.sh zoo train ...      # on the GPU machine, with .whl/ copied along
set -euo pipefail
cd "$(dirname "$0")/.."
# What the zoo needs that a PyTorch image usually lacks (torch, numpy, pluggy, safetensors,
# huggingface-hub, yaml, click, tqdm, jinja2, matplotlib and scikit-learn it usually has).
WHEELS=(jsonschema==4.26.0 referencing==0.37.0 rpds-py==2026.9.1 jsonschema-specifications==2025.9.1)
if [ "${1:-}" = --fetch ]; then
  exec python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${WHEELS[@]}"
fi
if ! python3 -c "import importlib.metadata as m, jsonschema; m.distribution('rnn-zoo')" 2>/dev/null; then
  python3 -m pip install --quiet --no-index --no-deps --no-compile .whl/*.whl
  python3 -m pip install --quiet --no-index --no-deps --no-build-isolation -e .
fi
exec "$@"
