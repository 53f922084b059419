#!/usr/bin/env bash
# Issue 8's comparisons on War and Peace (docs/analyses.md, "The error analysis of two sizes" and
# "Connectivity horizons"), with the paper's recipe and LF line ends throughout:
#
# 1. Fig. 6: the oracle breakdown of a small LSTM (1x64) and a larger one (LARGE, by default the
#    3x128 that scripts/section43_warpeace.sh trains), the small one as the reference, so the
#    report shows per category how many of its errors the larger model fixes.
# 2. Connectivity horizons of an LSTM, a GRU and a Nested LSTM of the same size (WIDTH, 2 layers)
#    trained for the same number of epochs (HORIZON_EPOCHS) on the same text.
#
#   scripts/oracles_and_horizons.sh
#   LARGE=runs/lstm-3x512.warpeace-lf WIDTH=512 HORIZON_EPOCHS=50 DEVICE=cuda scripts/oracles_and_horizons.sh
#
# Defaults: LARGE=runs/lstm-3x128.warpeace-lf SMALL_EPOCHS=50 WIDTH=128 HORIZON_EPOCHS=10 DEVICE=auto
# DATA=../shared/data/warpeace.txt. Runs that exist are continued with --resume and finished
# reports are kept, so the script can be run again after an interruption.
# Reports: reports/oracles-1x64/, reports/horizons/.
set -euo pipefail
DATA=${DATA:-../shared/data/warpeace.txt}
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
mkdir -p reports/oracles-1x64
if [ ! -f reports/oracles-1x64/small.json ]; then  # a finished step is not repeated
    $ZOO eval --model "$SMALL" --json > reports/oracles-1x64/small.eval.json
    $ZOO analyze --model "$LARGE" --reference "$SMALL" --analyzer oracles --out reports/oracles-1x64/large \
        --quiet --json > reports/oracles-1x64/large.json
    $ZOO analyze --model "$SMALL" --analyzer oracles --out reports/oracles-1x64/small --quiet --json \
        > reports/oracles-1x64/small.json
fi

# 2. connectivity horizons of three architectures of one size
runs=()
for arch in lstm gru nlstm; do
    run=runs/$arch-2x$WIDTH.warpeace-lf
    train "$arch-2x$WIDTH" "$run" "$HORIZON_EPOCHS"
    runs+=("$run")
done
mkdir -p reports/horizons
for run in "${runs[@]}"; do  # each model's score, and the article's figure of one window to look at
    $ZOO eval --model "$run" --json > "reports/horizons/$(basename "$run").eval.json"
    $ZOO analyze --model "$run" --analyzer connectivity --out "reports/horizons/$(basename "$run")" --quiet
done
$PYTHON scripts/connectivity_horizons.py "${runs[@]}" --figure reports/horizons/horizons.png \
    --json reports/horizons/horizons.json
