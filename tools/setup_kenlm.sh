#!/usr/bin/env bash
# Build KenLM for orders up to 24 (the paper's 20-gram baseline is a 21-gram): the lmplz,
# build_binary and query programs, and the `kenlm` Python module in the given virtual
# environment. Prebuilt kenlm wheels stop at order 6.
#
#   tools/setup_kenlm.sh .venv
#
# Both builds are cached: the programs under $ZOO_HOME/kenlm-<version>-order<N>/bin (default
# ~/.cache/zoo), the module as a wheel in pip's cache, so a second set-up takes seconds.
set -euo pipefail

VENV=${1:-.venv}
VERSION=0.3.0
ORDER=${KENLM_MAX_ORDER:-24}
PREFIX=${ZOO_HOME:-$HOME/.cache/zoo}/kenlm-$VERSION-order$ORDER
PACKAGES="libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"

missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "kenlm: installing build dependencies: $missing"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "kenlm: install these packages first (as root): apt-get install $missing" >&2
        exit 1
    fi
fi

if [ ! -x "$PREFIX/bin/lmplz" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "kenlm: building lmplz, build_binary and query (KENLM_MAX_ORDER=$ORDER, about 2 minutes)"
    "$VENV/bin/pip" download --quiet --no-deps --no-binary kenlm "kenlm==$VERSION" -d "$work"
    tar xzf "$work/kenlm-$VERSION.tar.gz" -C "$work"
    cmake -S "$work/kenlm-$VERSION" -B "$work/build" -DKENLM_MAX_ORDER="$ORDER" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 \
        || { tail -20 "$work/cmake.log" >&2; exit 1; }
    make -C "$work/build" -j"$(nproc)" lmplz build_binary query >"$work/make.log" 2>&1 \
        || { tail -20 "$work/make.log" >&2; exit 1; }
    mkdir -p "$PREFIX.tmp/bin" && cp "$work"/build/bin/{lmplz,build_binary,query} "$PREFIX.tmp/bin/"
    rm -rf "$PREFIX" && mv "$PREFIX.tmp" "$PREFIX"
fi
for tool in lmplz build_binary query; do ln -sf "$PREFIX/bin/$tool" "$VENV/bin/$tool"; done

if ! "$VENV/bin/python" -c "import kenlm" 2>/dev/null; then
    echo "kenlm: building the Python module (MAX_ORDER=$ORDER)"
    MAX_ORDER=$ORDER "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-binary kenlm "kenlm==$VERSION"
fi
echo "kenlm: ready ($PREFIX, max order $ORDER)"
