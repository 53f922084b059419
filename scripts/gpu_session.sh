#!/usr/bin/env bash
# The GPU work issues 10 and 11 leave for a session that is lent the device machine, as stages.
# A session has 15 minutes of device time, a minute or more of it spent starting the machine, and
# one call may last 10 minutes: so one call runs several stages, in the order given, within one
# time limit (LIMIT seconds, default 540); a stage that finds under a minute left is skipped and
# says so. Their files come back packed into one, $OUT/gpu-results.tar.gz (the device tool brings
# back at most 8 files), and the summaries are printed at the end.
#
# Here, once, where pip and ../shared/data are (the device machine has neither network nor data):
#   scripts/gpu_session.sh prepare
# which fetches the wheels scripts/on_device.sh installs (.whl/) and copies the corpora into
# .device-data/. Then one device call, carrying both folders, in this order of priority:
#   scripts/gpu_session.sh check autocomplete zoo256
# check:        Nested LSTM and GRU speed against the LSTM, GPU tests of the compiled path (issue 11;
#               at most CHECK_SECONDS, 270)
# autocomplete: the Distill models at 600 units on War and Peace normalized, trained at once and
#               stopped in time for their figures (issue 11)
# zoo256:       pretrained zoo, budget 256: 3 models x 3 dropouts, 9 runs at once (issue 10)
# zoo512:       budget 512 on War and Peace and the 3x512 Linux LSTM (issue 10)
# What a stage finished is in the tarball (summary.json/md rows are written per model as each
# finishes), which is written however the script ends.
# A machine given back loses the runs: results come home as files, the runs themselves are
# scratch, as on the CPU; the pretrained zoo's kept models come home as their Hub-ready folders
# ($OUT/<model>-hub.tar.gz: weights, card, cells, saturation and line-ends reports), as the limits allow.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES=("$@")
[ "${#STAGES[@]}" -gt 0 ] || { echo "which stages: prepare, or any of check, autocomplete, zoo256, zoo512" >&2; exit 2; }
for stage in "${STAGES[@]}"; do  # a misspelt stage is found here, before the machine's time goes on it
  case "$stage" in
    prepare|check|autocomplete|zoo256|zoo512) ;;
    *) echo "unknown stage '$stage' (prepare, check, autocomplete, zoo256, zoo512)" >&2; exit 2 ;;
  esac
done
DATA=.device-data
LIMIT=${LIMIT:-540}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu EPOCHS=1 with MODELS (a regex of zoo models) and WIDTH and WORDS
                        # (autocomplete): a dry run anywhere
RES=gpu-results          # what the stages write (ignored by git)
OUT=${OUT:-/tmp}         # where the tarball goes: the device tool's $OUT there

if [ "${STAGES[0]}" = prepare ]; then
  scripts/on_device.sh --fetch
  mkdir -p "$DATA"
  cp ../shared/data/warpeace.txt ../shared/data/linux.txt "$DATA"/
  du -sh .whl "$DATA"
  exit 0
fi

rm -rf "$RES" && mkdir -p "$RES" "$OUT"
pack_results() {  # on any exit: the stages' files as one tarball, and the summaries on the console
  tar -czf "$OUT/gpu-results.tar.gz" -C "$RES" . || true
  for f in "$RES"/*summary.md "$RES"/check-bench-*.txt "$RES"/autocomplete.log "$RES"/skipped.txt; do
    [ -f "$f" ] && { echo "== ${f#"$RES"/}"; tail -n 40 "$f"; }
  done
  return 0
}
trap pack_results EXIT
export PYTHONUNBUFFERED=1
scripts/on_device.sh true  # installs the zoo into the machine's python3, once
ZOO="$(dirname "$(python3 -c 'import sys; print(sys.executable)')")/zoo"
stop_in() {  # the seconds left of LIMIT, less a margin for copying results out
  echo $(( LIMIT - SECONDS - 20 ))
}
check_left() {  # the seconds left to the check stage: its own cap, or the call's limit
  local until=$(( CHECK_UNTIL - SECONDS )) call; call=$(stop_in)
  echo $(( until < call ? until : call ))
}
pack_runs() {  # every run's history (run.json, trained.json, evaluations): small, one file
  find "$1" \( -name run.json -o -name trained.json -o -name '*.test.json' \) -print0 2>/dev/null \
    | tar -czf "$RES/$2" --null -T - || true
}

pack_hub_folders() {  # each kept model's Hub-ready folder (weights, card, analyses): one file each,
  # beside the results, while the tool's limits allow (8 files, 16 MiB each, 64 MiB together)
  local hub name total=0 size
  for hub in "$1"/*/hub; do
    [ -f "$hub/model.safetensors" ] || continue
    name=$(basename "$(dirname "$hub")")
    tar -czf "$OUT/$name-hub.tar.gz" -C "$1" "$name/hub"  # unpacks as <model>/hub
    size=$(stat -c %s "$OUT/$name-hub.tar.gz")
    if [ "$size" -gt $(( 16 * 1024 * 1024 )) ] || [ $(( total + size )) -gt $(( 56 * 1024 * 1024 )) ] \
        || [ "$(ls "$OUT" | wc -l)" -gt 7 ]; then  # the results' tarball is the eighth
      rm -f "$OUT/$name-hub.tar.gz"
      echo "$name: Hub-ready folder not brought back ($size bytes compressed, over the tool's limits)" >> "$RES/skipped.txt"
    else
      total=$(( total + size ))
    fi
  done
}

run_stage() {
  local STAGE=$1
  case "$STAGE" in
  check)
    # The speed the issue asks for first, then CUDA graphs, then the GPU-only tests (the compiled
    # path's equivalence is also tested on the CPU); CHECK_SECONDS caps the stage, whose compiles
    # could otherwise take the whole call.
    CHECK_UNTIL=$(( SECONDS + ${CHECK_SECONDS:-270} ))
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$RES/gpu.txt" || true
    python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" >> "$RES/gpu.txt"
    for mode in default reduce-overhead; do
      flag=(); [ "$mode" = default ] || flag=(--compile-mode "$mode")
      [ "$(check_left)" -gt 20 ] || { echo "check: no time for the $mode benchmark" | tee -a "$RES/skipped.txt"; continue; }
      timeout "$(check_left)" python3 benchmarks/architectures.py --device "$DEVICE" \
        --archs lstm,gru,nlstm --compiled-paths --training-only --repeats 10 "${flag[@]}" \
        > "$RES/check-bench-$mode.txt" 2>&1 || echo "benchmark ($mode) stopped: see check-bench-$mode.txt"
    done
    if [ "$(check_left)" -gt 20 ]; then
      timeout "$(check_left)" python3 -m pytest -q -p no:cacheprovider tests/test_compiled.py tests/test_nlstm.py \
        > "$RES/check-tests.log" 2>&1 || echo "tests failed or stopped: see check-tests.log"
    else
      echo "check: no time for the GPU tests" | tee -a "$RES/skipped.txt"
    fi
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
      > "$RES/$STAGE.log" 2>&1 || echo "$STAGE stopped before every model finished: see $STAGE.log"
    cp runs/zoo/summary.json "$RES/$STAGE-summary.json" 2>/dev/null || true
    cp runs/zoo/summary.md "$RES/$STAGE-summary.md" 2>/dev/null || true
    pack_runs runs/zoo "$STAGE-runs.tar.gz"
    pack_hub_folders runs/zoo
    ;;
  autocomplete)
    # Two passes over War and Peace are 440 steps (the article's two over text8: 14,278); the CPU
    # runs needed ten and more to get past word frequencies, hence EPOCHS (default 10). The three
    # models train at once and stop with AUTOCOMPLETE_RESERVE seconds left for their figures.
    local train_for=$(( $(stop_in) - ${AUTOCOMPLETE_RESERVE:-150} ))
    [ "$train_for" -gt 60 ] || { echo "autocomplete: too little time left to train" | tee -a "$RES/skipped.txt"; return 0; }
    timeout "$(stop_in)" env WIDTH="${WIDTH:-600}" WORDS="${WORDS:-16384}" EPOCHS="${EPOCHS:-10}" DEVICE="$DEVICE" DATA="$DATA/warpeace.txt" \
      PARALLEL=1 TRAIN_SECONDS="$train_for" MODELS="${AUTOCOMPLETE_MODELS:-gru-2 lstm-2 nlstm-1}" OUT=runs/autocomplete600 ZOO="$ZOO" scripts/autocomplete_reproduction.sh \
      > "$RES/autocomplete.log" 2>&1 || echo "autocomplete stopped: see autocomplete.log"
    cp runs/autocomplete600/accuracy.json "$RES/autocomplete-accuracy.json" 2>/dev/null || true
    cp runs/autocomplete600/accuracy/accuracy.png "$RES/autocomplete-accuracy.png" 2>/dev/null || true
    local trained=()  # a model stopped before its first pass has no run to measure
    for run in runs/autocomplete600/*-*x*/; do [ -f "$run/run.json" ] && trained+=("$run"); done
    timeout "$(stop_in)" python3 scripts/connectivity_horizons.py "${trained[@]}" --windows 20 \
      --figure "$RES/autocomplete-horizons.png" --json "$RES/autocomplete-horizons.json" \
      > "$RES/autocomplete-horizons.txt" 2>&1 || echo "horizons stopped: see autocomplete-horizons.txt"
    pack_runs runs/autocomplete600 autocomplete-runs.tar.gz
    ;;
  esac
}

for stage in "${STAGES[@]}"; do
  if [ "$(stop_in)" -lt 60 ]; then
    echo "$stage: skipped, $(stop_in) s left of LIMIT=$LIMIT" | tee -a "$RES/skipped.txt"
    continue
  fi
  echo "$stage: starting at ${SECONDS} s"
  run_stage "$stage"
done
ls -la "$RES"
