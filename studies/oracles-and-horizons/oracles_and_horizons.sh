#!/usr/bin/env bash
# The error analysis of two sizes and the connectivity horizons on War and Peace
# (studies/oracles-and-horizons/README.md), with the paper's recipe and LF line ends throughout:
#
# 1. Fig. 6: the oracle breakdown of a small LSTM (1x64) and a larger one (LARGE, by default the
#    3x128 that studies/cells-and-comparisons/section43_warpeace.sh trains), the small one as the
#    reference, so the report shows per category how many of its errors the larger model fixes.
# 2. Connectivity horizons of an LSTM, a GRU and a Nested LSTM of the same size (WIDTH, 2 layers)
#    trained for the same number of epochs (HORIZON_EPOCHS) on the same text.
#
#   studies/oracles-and-horizons/oracles_and_horizons.sh          # from the repository root
#   LARGE=runs/lstm-3x512.warpeace-lf WIDTH=512 HORIZON_EPOCHS=50 DEVICE=cuda \
#       studies/oracles-and-horizons/oracles_and_horizons.sh
#
# Defaults: LARGE=runs/lstm-3x128.warpeace-lf SMALL_EPOCHS=50 WIDTH=128 HORIZON_EPOCHS=10
# DEVICE=auto DATA=warpeace (the dataset by name, or its file: docs/datasets.md). Runs that exist
# are continued with --resume, and a report is made again only when a run it reads has trained on
# since, so the script can be run again after an interruption or more training. Reports:
# reports/oracles-1x64/ (small.json, <LARGE's run>.json and their folders), reports/horizons/.
set -euo pipefail
DATA=${DATA:-warpeace}
LARGE=${LARGE:-runs/lstm-3x128.warpeace-lf}
SMALL_EPOCHS=${SMALL_EPOCHS:-50}
WIDTH=${WIDTH:-128}
HORIZON_EPOCHS=${HORIZON_EPOCHS:-10}
DEVICE=${DEVICE:-auto}
ZOO=${ZOO:-.venv/bin/zoo}
PYTHON=${PYTHON:-.venv/bin/python}

train() {  # train (or continue) model $1 into run $2 up to $3 epochs
    local resume=()
    [ -f "$2/run.json" ] && resume=(--resume)
    $ZOO train --model "$1" --data "$DATA" --epochs "$3" --device "$DEVICE" --out "$2" "${resume[@]}" --quiet
}

# 1. Fig. 6: small against large
SMALL=runs/lstm-1x64.warpeace-lf
train lstm-1x64 "$SMALL" "$SMALL_EPOCHS"
ORACLES=reports/oracles-1x64
mkdir -p "$ORACLES"
fresh() {  # report $1 is newer than the last epoch of every run after it: nothing to redo
    local report=$1 run
    shift
    [ -f "$report" ] || return 1
    for run in "$@"; do [ "$report" -nt "$run/run.json" ] || return 1; done
}
if ! fresh "$ORACLES/small.json" "$SMALL"; then
    $ZOO eval --model "$SMALL" --json > "$ORACLES/small.eval.json"
    $ZOO analyze --model "$SMALL" --analyzer oracles --out "$ORACLES/small" --quiet --json > "$ORACLES/small.json"
fi
LARGE_NAME=$(basename "$LARGE")  # one report per large model: reports/oracles-1x64/<its run>/
if ! fresh "$ORACLES/$LARGE_NAME.json" "$SMALL" "$LARGE"; then
    $ZOO eval --model "$LARGE" --json > "$ORACLES/$LARGE_NAME.eval.json"
    $ZOO analyze --model "$LARGE" --reference "$SMALL" --analyzer oracles --out "$ORACLES/$LARGE_NAME" \
        --quiet --json > "$ORACLES/$LARGE_NAME.json"
fi

# 2. connectivity horizons of three architectures of one size
runs=()
for arch in lstm gru nlstm; do
    run=runs/$arch-2x$WIDTH.warpeace-lf
    train "$arch-2x$WIDTH" "$run" "$HORIZON_EPOCHS"
    runs+=("$run")
done
mkdir -p reports/horizons
fresh reports/horizons/horizons.json "${runs[@]}" && exit 0
for run in "${runs[@]}"; do  # each model's score, and the article's figure of one window to look at
    $ZOO eval --model "$run" --json > "reports/horizons/$(basename "$run").eval.json"
    $ZOO analyze --model "$run" --analyzer connectivity --out "reports/horizons/$(basename "$run")" --quiet
done
$PYTHON "$(dirname "$0")/connectivity_horizons.py" "${runs[@]}" --figure reports/horizons/horizons.png \
    --json reports/horizons/horizons.json
