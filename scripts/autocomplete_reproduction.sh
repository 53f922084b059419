#!/usr/bin/env bash
# Madsen 2019's autocomplete protocol (Distill appendix): GRU 2 layers, LSTM 2 layers, Nested LSTM
# 1 layer of depth 2; Adam, batch 64, two passes; word-level test cross-entropy, accuracy, and the
# accuracy-by-known-chars graph. docs/autocomplete.md reports the runs.
#
#   scripts/autocomplete_reproduction.sh                 # the article's models on text8 (needs a network once, and a GPU)
#   WIDTH=128 WORDS=4096 DATA=../shared/data/warpeace.txt scripts/autocomplete_reproduction.sh
#                                                        # the same protocol at width 128, 4,096 words, on War and
#                                                        # Peace (the CPU run: the 16,386-way head dominates its cost)
set -euo pipefail
ZOO=${ZOO:-.venv/bin/zoo}
DATA=${DATA:-text8}
WIDTH=${WIDTH:-600}
WORDS=${WORDS:-16384}
OUT=${OUT:-runs/autocomplete}
DEVICE=${DEVICE:-auto}
mkdir -p "$OUT"
for model in gru-2 lstm-2 nlstm-1; do
  arch=${model%-*}; layers=${model#*-}
  name="$arch-${layers}x$WIDTH"
  if [ "$WIDTH" = 600 ] && [ "$DATA" = text8 ]; then
    args=(--model "$name.text8")                      # the registry entries: embedding 600, 16,386 classes
  else
    args=(--model "$name" --input embedding --words "$WORDS")
    [ "$arch" = gru ] && args+=(--set reset=before)  # TensorFlow's GRUCell, as the article's
  fi
  run="$OUT/$name"
  if [ ! -f "$run/run.json" ]; then
    "$ZOO" train "${args[@]}" --task autocomplete --data "$DATA" --out "$run" --device "$DEVICE" --quiet
  fi
  "$ZOO" eval --model "$run" --json > "$OUT/$name.test.json"
  "$ZOO" analyze --model "$run" --analyzer accuracy-by-known-chars --out "$OUT/reports/$name" --quiet --json \
    > "$OUT/$name.accuracy.json" || true
done
