#!/usr/bin/env bash
# Install the zoo into the python3 of a machine that has PyTorch but no network (a GPU image, say),
# from the few wheels such an image usually lacks, fetched beforehand where pip works; then run a
# command there.
#
#   tools/install_offline.sh --fetch .whl                   # where pip works: download the wheels into .whl/
#   tools/install_offline.sh .whl zoo train ...             # on the machine without a network, .whl/ copied along
#   tools/install_offline.sh .whl python3 -m pytest -q tests/test_compiled.py
#
# The zoo is installed (editable, from this repository) only where python3 cannot import it yet.
# What a PyTorch image usually has already: torch, numpy, pluggy, safetensors, huggingface-hub,
# yaml, click, tqdm, jinja2, matplotlib, scikit-learn. PYTHON_VERSION (default 3.12) is the target
# machine's Python, for --fetch.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(jsonschema==4.26.0 referencing==0.37.0 rpds-py==2026.9.1 jsonschema-specifications==2025.9.1)
usage="usage: tools/install_offline.sh --fetch DIR | DIR [COMMAND...]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
if [ "$1" = --fetch ]; then
  [ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
  exec python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "${PYTHON_VERSION:-3.12}" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$2" "${WHEELS[@]}"
fi
wheels=$1
shift
if ! python3 -c "import importlib.metadata as m, jsonschema; m.distribution('rnn-zoo')" 2>/dev/null; then
  compgen -G "$wheels/*.whl" >/dev/null || { echo "no wheels in $wheels: run tools/install_offline.sh --fetch $wheels where pip works" >&2; exit 1; }
  python3 -m pip install --quiet --no-index --no-deps --no-compile "$wheels"/*.whl
  python3 -m pip install --quiet --no-index --no-deps --no-build-isolation -e .
fi
[ $# -eq 0 ] || exec "$@"
