#!/usr/bin/env bash
# The GPU work issues 10 and 11 leave for a session that is lent the device machine, cut into
# stages that each fit one device call (under its 10-minute limit) and leave their results as a
# few flat files in $OUT (the device tool brings back at most 8 files, two folders down).
#
# Here, once, where pip and ../shared/data are (the device machine has neither network nor data):
#   scripts/gpu_session.sh prepare
# which fetches the wheels scripts/on_device.sh installs (.whl/) and copies the corpora into
# .device-data/. Then one device call per stage, carrying both folders:
#   scripts/gpu_session.sh check         # GPU tests of the compiled path, Nested LSTM speed (issue 11)
#   scripts/gpu_session.sh zoo256        # pretrained zoo, budget 256: 3 models x 3 dropouts, 9 runs at once
#   scripts/gpu_session.sh zoo512        # budget 512 on War and Peace and the 3x512 Linux LSTM
#   scripts/gpu_session.sh autocomplete  # the Distill models at 600 units on War and Peace, normalized
# A stage stops itself before the call's limit (LIMIT seconds, default 540); what it finished is in
# $OUT (summary.json/md rows are written per model as each finishes). A machine given back loses
# the runs: results come home as files, the runs themselves are scratch, as on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=${1:?"which stage: prepare, check, zoo256, zoo512 or autocomplete"}
DATA=.device-data
LIMIT=${LIMIT:-540}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu EPOCHS=1 with MODELS (a regex) or WIDTH and WORDS: a stage's dry run anywhere
OUT=${OUT:-gpu-results}

if [ "$STAGE" = prepare ]; then
  scripts/on_device.sh --fetch
  mkdir -p "$DATA"
  cp ../shared/data/warpeace.txt ../shared/data/linux.txt "$DATA"/
  du -sh .whl "$DATA"
  exit 0
fi

mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
scripts/on_device.sh true  # installs the zoo into the machine's python3, once
ZOO="$(dirname "$(python3 -c 'import sys; print(sys.executable)')")/zoo"
stop_in() {  # the seconds left of LIMIT, less a margin for copying results out
  echo $(( LIMIT - SECONDS - 20 ))
}
pack_runs() {  # every run's history (run.json, trained.json, evaluations): small, one file
  find "$1" \( -name run.json -o -name trained.json -o -name '*.test.json' \) -print0 2>/dev/null \
    | tar -czf "$OUT/$2" --null -T - || true
}

case "$STAGE" in
  check)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" || true
    python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" >> "$OUT/gpu.txt"
    timeout "$(stop_in)" python3 -m pytest -q -p no:cacheprovider tests/test_compiled.py tests/test_nlstm.py \
      > "$OUT/check-tests.log" 2>&1 || echo "tests failed: see check-tests.log"
    for mode in default reduce-overhead; do
      flag=(); [ "$mode" = default ] || flag=(--compile-mode "$mode")
      timeout "$(stop_in)" python3 benchmarks/architectures.py --device "$DEVICE" \
        --archs lstm,gru,nlstm --compiled-paths --training-only --repeats 10 "${flag[@]}" \
        > "$OUT/check-bench-$mode.txt" 2>&1 || echo "benchmark ($mode) stopped: see check-bench-$mode.txt"
    done
    ;;
  zoo256|zoo512)
    if [ "$STAGE" = zoo256 ]; then
      models='(lstm-3x256|gru-3x297|rnn-3x516)\.warpeace'; jobs=9
    else
      models='(lstm-3x512|gru-3x592|rnn-3x1029)\.warpeace|lstm-3x512\.linux'; jobs=12
    fi
    models=${MODELS:-$models}
    timeout "$(stop_in)" python3 scripts/pretrained_zoo.py --device "$DEVICE" --jobs "$jobs" --epochs "${EPOCHS:-50}" \
      --data warpeace="$DATA/warpeace.txt" --data linux="$DATA/linux.txt" --models "$models" --out runs/zoo \
      > "$OUT/$STAGE.log" 2>&1 || echo "$STAGE stopped before every model finished: see $STAGE.log"
    cp runs/zoo/summary.json "$OUT/$STAGE-summary.json" 2>/dev/null || true
    cp runs/zoo/summary.md "$OUT/$STAGE-summary.md" 2>/dev/null || true
    pack_runs runs/zoo "$STAGE-runs.tar.gz"
    ;;
  autocomplete)
    # Two passes over War and Peace are 440 steps (the article's two over text8: 14,278); the CPU
    # runs needed ten and more to get past word frequencies, hence EPOCHS (default 10).
    timeout "$(stop_in)" env WIDTH="${WIDTH:-600}" WORDS="${WORDS:-16384}" EPOCHS="${EPOCHS:-10}" DEVICE="$DEVICE" DATA="$DATA/warpeace.txt" \
      OUT=runs/autocomplete600 ZOO="$ZOO" scripts/autocomplete_reproduction.sh \
      > "$OUT/autocomplete.log" 2>&1 || echo "autocomplete stopped: see autocomplete.log"
    cp runs/autocomplete600/accuracy.json "$OUT/autocomplete-accuracy.json" 2>/dev/null || true
    cp runs/autocomplete600/accuracy/accuracy.png "$OUT/autocomplete-accuracy.png" 2>/dev/null || true
    timeout "$(stop_in)" python3 scripts/connectivity_horizons.py runs/autocomplete600/*-*x*/ --windows 20 \
      --figure "$OUT/autocomplete-horizons.png" --json "$OUT/autocomplete-horizons.json" \
      > "$OUT/autocomplete-horizons.txt" 2>&1 || echo "horizons stopped: see autocomplete-horizons.txt"
    pack_runs runs/autocomplete600 autocomplete-runs.tar.gz
    ;;
  *)
    echo "unknown stage '$STAGE' (prepare, check, zoo256, zoo512, autocomplete)" >&2
    exit 2
    ;;
esac
ls -la "$OUT"
