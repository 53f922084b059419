#!/usr/bin/env bash
# Madsen 2019's autocomplete protocol (Distill appendix): GRU 2 layers, LSTM 2 layers, Nested LSTM
# 1 layer of depth 2; Adam, batch 64, two passes; word-level test cross-entropy, accuracy, and the
# accuracy-by-known-chars graph of all of them. studies/autocomplete/README.md reports the runs.
# Run from the repository root:
#
#   studies/autocomplete/autocomplete_reproduction.sh     # the article's models on text8 (a network once; a GPU)
#   WIDTH=128 WORDS=4096 EPOCHS=6 MODELS="gru-2 lstm-2" DATA=warpeace \
#     studies/autocomplete/autocomplete_reproduction.sh   # the study's CPU run
#
# DATA: a dataset by name (text8, warpeace) or a text file; it is normalized the text8 way.
# A run that exists is continued to EPOCHS (--resume), not started again. PARALLEL=1 trains the
# models at once (one GPU has room for all three). TRAIN_SECONDS stops training after that long
# and goes on with what the runs finished (each keeps its last whole epoch), so a call with a time
# limit still ends with the figures; the log says which run stopped early, and at which pass.
set -euo pipefail
ZOO=${ZOO:-.venv/bin/zoo}
DATA=${DATA:-text8}
WIDTH=${WIDTH:-600}
WORDS=${WORDS:-16384}
EPOCHS=${EPOCHS:-2}
MODELS=${MODELS:-gru-2 lstm-2 nlstm-1}
OUT=${OUT:-runs/autocomplete}
DEVICE=${DEVICE:-auto}
PARALLEL=${PARALLEL:-0}
TRAIN_SECONDS=${TRAIN_SECONDS:-0}  # 0: no limit
mkdir -p "$OUT"
limit=(); [ "$TRAIN_SECONDS" -gt 0 ] && limit=(timeout "$TRAIN_SECONDS")  # SIGTERM: runs write atomically

train_one() {  # MODEL (gru-2, ...) RUN: train or continue it; a run stopped by TRAIN_SECONDS is kept
  local arch=${1%-*} layers=${1#*-} run=$2 args
  local name="$arch-${layers}x$WIDTH" status=0
  if [ "$WIDTH" = 600 ] && [ "$DATA" = text8 ]; then
    args=(--model "$name.text8")                      # the registry entries: embedding 600, 16,386 classes
  else
    args=(--model "$name" --input embedding --set words="$WORDS")
    [ "$arch" = gru ] && args+=(--set reset=before)  # TensorFlow's GRUCell, as the article's
  fi
  if [ -f "$run/run.json" ]; then
    args=(--model "${args[1]}" --resume)
  fi
  "${limit[@]}" "$ZOO" train "${args[@]}" --task autocomplete --data "$DATA" --out "$run" --device "$DEVICE" \
    --epochs "$EPOCHS" --quiet || status=$?
  if [ "$status" = 124 ] && [ -f "$run/run.json" ]; then
    echo "$name: stopped by TRAIN_SECONDS=$TRAIN_SECONDS; its last whole pass: $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["last"])' "$run/run.json")"
  elif [ "$status" = 124 ]; then
    echo "$name: not one pass within TRAIN_SECONDS=$TRAIN_SECONDS" >&2
    return 124
  elif [ "$status" != 0 ]; then
    return "$status"
  fi
}

runs=() pids=() failed=0
for model in $MODELS; do
  run="$OUT/${model}x$WIDTH"  # gru-2 -> gru-2x600
  runs+=("$run")
  if [ "$PARALLEL" = 1 ]; then
    train_one "$model" "$run" & pids+=($!)
  else
    train_one "$model" "$run" || failed=1
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
trained=()  # under TRAIN_SECONDS, the runs that finished a pass; every run, otherwise
for run in "${runs[@]}"; do
  [ -f "$run/run.json" ] && trained+=("$run")
done
if [ "$failed" = 1 ] && [ "$TRAIN_SECONDS" = 0 ] || [ "${#trained[@]}" = 0 ]; then
  exit 1
fi
runs=("${trained[@]}")
for run in "${runs[@]}"; do
  "$ZOO" eval --model "$run" --json > "$OUT/$(basename "$run").test.json"
done
refs=()
for run in "${runs[@]:1}"; do refs+=(--reference "$run"); done
"$ZOO" analyze --model "${runs[0]}" "${refs[@]}" --analyzer accuracy-by-known-chars --out "$OUT/accuracy" --quiet --json \
  > "$OUT/accuracy.json"
