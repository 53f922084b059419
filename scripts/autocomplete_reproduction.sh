#!/usr/bin/env bash
# Madsen 2019's autocomplete protocol (Distill appendix): GRU 2 layers, LSTM 2 layers, Nested LSTM
# 1 layer of depth 2; Adam, batch 64, two passes; word-level test cross-entropy, accuracy, and the
# accuracy-by-known-chars graph of all of them. docs/autocomplete.md reports the runs.
#
#   scripts/autocomplete_reproduction.sh          # the article's models on text8 (a network once; a GPU)
#   WIDTH=128 WORDS=4096 EPOCHS=6 MODELS="gru-2 lstm-2" DATA=../shared/data/warpeace.txt \
#     scripts/autocomplete_reproduction.sh        # the CPU run of docs/autocomplete.md
#
# A run that exists is continued to EPOCHS (--resume), not started again.
set -euo pipefail
ZOO=${ZOO:-.venv/bin/zoo}
DATA=${DATA:-text8}
WIDTH=${WIDTH:-600}
WORDS=${WORDS:-16384}
EPOCHS=${EPOCHS:-2}
MODELS=${MODELS:-gru-2 lstm-2 nlstm-1}
OUT=${OUT:-runs/autocomplete}
DEVICE=${DEVICE:-auto}
mkdir -p "$OUT"
runs=()
for model in $MODELS; do
  arch=${model%-*}; layers=${model#*-}
  name="$arch-${layers}x$WIDTH"
  if [ "$WIDTH" = 600 ] && [ "$DATA" = text8 ]; then
    args=(--model "$name.text8")                      # the registry entries: embedding 600, 16,386 classes
  else
    args=(--model "$name" --input embedding --words "$WORDS")
    [ "$arch" = gru ] && args+=(--set reset=before)  # TensorFlow's GRUCell, as the article's
  fi
  run="$OUT/$name"
  if [ -f "$run/run.json" ]; then
    "$ZOO" train --model "${args[1]}" --task autocomplete --data "$DATA" --out "$run" --device "$DEVICE" \
      --epochs "$EPOCHS" --resume --quiet
  else
    "$ZOO" train "${args[@]}" --task autocomplete --data "$DATA" --out "$run" --device "$DEVICE" --epochs "$EPOCHS" --quiet
  fi
  "$ZOO" eval --model "$run" --json > "$OUT/$name.test.json"
  runs+=("$run")
done
refs=()
for run in "${runs[@]:1}"; do refs+=(--reference "$run"); done
"$ZOO" analyze --model "${runs[0]}" "${refs[@]}" --analyzer accuracy-by-known-chars --out "$OUT/accuracy" --quiet --json \
  > "$OUT/accuracy.json"
