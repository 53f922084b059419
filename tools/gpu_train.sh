#!/usr/bin/env bash
# Train registry models on a CUDA machine and pack the kept models and summaries into one archive.
#
#   tools/gpu_train.sh [OPTIONS] TASK...
#
# Tasks, run in the order given:
#   check         the compiled training path on CUDA: Nested LSTM and reset-before GRU training speed
#                 against the LSTM (torch.compile's default mode, then CUDA graphs), then the GPU tests
#                 of that path; at most CHECK_SECONDS (270) of the time
#   zoo256        the pretrained zoo's 256 budget (tools/pretrained_zoo.py): LSTM, GRU and RNN x
#                 dropout {0, 0.25, 0.5}, 9 runs at once
#   zoo512        the 512 budget on War and Peace and the 3x512 Linux LSTM (the latter with
#                 --data linux=FILE only)
#   autocomplete  Madsen 2019's GRU, LSTM and Nested LSTM at 600 units and 16,384 words on War and
#                 Peace normalized the text8 way (studies/autocomplete/), trained at once for up to
#                 10 passes and stopped with AUTOCOMPLETE_RESERVE (150) seconds left for the test
#                 figures, the accuracy graph and the connectivity horizons
#
# Options:
#   --time-limit S    S seconds for all the tasks (default: no limit). A task that finds under a
#                     minute left is skipped and says so; training stops in time for the figures
#                     and the archive.
#   --out DIR         the output folder (default gpu-results): DIR/runs/ holds the runs (a task
#                     called again with the same DIR continues them), DIR/results/ the logs and
#                     summaries, and DIR/gpu-train.tar.gz, written however the tasks end, packs the
#                     results, every run's history and each kept model's Hub-ready folder (weights,
#                     card, and its cells, saturation and line-ends reports).
#   --data NAME=FILE  a dataset's text as a file (repeatable): linux has no download and needs one;
#                     warpeace is downloaded by name unless given (docs/datasets.md)
#   --models REGEX    the zoo tasks' models, a regular expression over registry names
#   --epochs N        the most epochs (passes) of each run (default: 50 for the zoo, 10 for autocomplete)
#   --device DEV      cuda (default); cpu with small settings checks the tasks anywhere
#   --wheels DIR      on a machine without a network: install the zoo from the wheels in DIR first
#                     (tools/install_offline.sh --fetch DIR, run where pip works, makes them)
#
#   tools/gpu_train.sh --time-limit 3600 --data linux=linux.txt zoo256 zoo512
#   tools/gpu_train.sh --wheels .whl --data warpeace=warpeace.txt --time-limit 540 check autocomplete
#   WIDTH=16 WORDS=256 tools/gpu_train.sh --device cpu --epochs 1 --models 'lstm-3x64\.warpeace' \
#       --out gpu-check zoo256 autocomplete             # a few minutes on a CPU
#
# PYTHON (default python3) is the interpreter that runs the zoo; the tasks leave the summaries on
# the console at the end. Unpack the archive with `tar -xzf DIR/gpu-train.tar.gz -C DIR`:
# results/, and runs/zoo/<model>/hub for each kept model.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
LIMIT=0 OUT=gpu-results DEVICE=cuda MODELS='' EPOCHS='' WHEELS='' DATA_ARGS=() TASKS=() WARPEACE=warpeace
while [ $# -gt 0 ]; do
  case "$1" in
    --time-limit) LIMIT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --data)
      [[ "$2" == *=* ]] || { echo "--data takes NAME=FILE (linux=linux.txt)" >&2; exit 2; }
      [ -f "${2#*=}" ] || { echo "--data $2: no such file" >&2; exit 2; }
      DATA_ARGS+=(--data "${2%%=*}=$(realpath "${2#*=}")")
      if [ "${2%%=*}" = warpeace ]; then WARPEACE=$(realpath "${2#*=}"); fi
      shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --wheels) WHEELS=$2; shift 2 ;;
    -h|--help) usage ;;
    check|zoo256|zoo512|autocomplete) TASKS+=("$1"); shift ;;
    *) echo "unknown task or option '$1' (tasks: check, zoo256, zoo512, autocomplete; --help)" >&2; exit 2 ;;
  esac
done
[ "${#TASKS[@]}" -gt 0 ] || { echo "which tasks: check, zoo256, zoo512, autocomplete (--help)" >&2; exit 2; }
[[ "$LIMIT" =~ ^[0-9]+$ ]] || { echo "--time-limit takes seconds, got '$LIMIT'" >&2; exit 2; }
[ -z "$WHEELS" ] || WHEELS=$(realpath "$WHEELS")
OUT=$(realpath -m "$OUT")  # paths given are the caller's; the tasks run from the repository root
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RUNS=$OUT/runs RES=$OUT/results
mkdir -p "$RUNS" && rm -rf "$RES" && mkdir -p "$RES"

pack() {  # on any exit: the results, the runs' histories and the kept models in one archive
  local listing
  listing=$(mktemp)
  (cd "$OUT" && find results -type f
   find runs \( -name run.json -o -name trained.json -o -name '*.test.json' -o -name 'summary.*' \
     -o -name 'accuracy.json' \) -type f
   find runs -path '*/hub/*' -type f) > "$listing" 2>/dev/null || true
  tar -czf "$OUT/gpu-train.tar.gz" -C "$OUT" -T "$listing" || true
  rm -f "$listing"
  for f in "$RES"/*summary.md "$RES"/check-bench-*.txt "$RES"/autocomplete.log "$RES"/skipped.txt; do
    [ -f "$f" ] && { echo "== ${f#"$RES"/}"; tail -n 40 "$f"; }
  done
  echo "archive: $OUT/gpu-train.tar.gz ($(du -h "$OUT/gpu-train.tar.gz" | cut -f1))"
  return 0
}
trap pack EXIT
export PYTHONUNBUFFERED=1

if [ -n "$WHEELS" ]; then
  tools/install_offline.sh "$WHEELS"
elif ! "$PYTHON" -c "import zoo" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet -e .
fi
ZOO="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")/zoo"

left() {  # seconds left for work, less a margin for packing (a large number without a limit)
  if [ "$LIMIT" = 0 ]; then echo 999999; else echo $(( LIMIT - SECONDS - 20 )); fi
}
check_left() {  # the check task's own cap, or what is left
  local until=$(( CHECK_UNTIL - SECONDS )) all; all=$(left)
  echo $(( until < all ? until : all ))
}

run_task() {
  case "$1" in
  check)
    CHECK_UNTIL=$(( SECONDS + ${CHECK_SECONDS:-270} ))
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$RES/gpu.txt" 2>&1 || true
    "$PYTHON" -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" >> "$RES/gpu.txt"
    for mode in default reduce-overhead; do
      local flag=(); [ "$mode" = default ] || flag=(--compile-mode "$mode")
      [ "$(check_left)" -gt 20 ] || { echo "check: no time for the $mode benchmark" | tee -a "$RES/skipped.txt"; continue; }
      timeout "$(check_left)" "$PYTHON" benchmarks/architectures.py --device "$DEVICE" \
        --archs lstm,gru,nlstm --compiled-paths --training-only --repeats 10 "${flag[@]}" \
        > "$RES/check-bench-$mode.txt" 2>&1 || echo "benchmark ($mode) stopped: see results/check-bench-$mode.txt"
    done
    if [ "$(check_left)" -gt 20 ]; then
      timeout "$(check_left)" "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_compiled.py tests/test_nlstm.py \
        > "$RES/check-tests.log" 2>&1 || echo "tests failed or stopped: see results/check-tests.log"
    else
      echo "check: no time for the GPU tests" | tee -a "$RES/skipped.txt"
    fi
    ;;
  zoo256|zoo512)
    local models jobs
    if [ "$1" = zoo256 ]; then
      models='(lstm-3x256|gru-3x297|rnn-3x516)\.warpeace' jobs=9
    else
      models='(lstm-3x512|gru-3x592|rnn-3x1029)\.warpeace|lstm-3x512\.linux' jobs=12
    fi
    timeout "$(left)" "$PYTHON" tools/pretrained_zoo.py --device "$DEVICE" --jobs "$jobs" --epochs "${EPOCHS:-50}" \
      "${DATA_ARGS[@]}" --models "${MODELS:-$models}" --out "$RUNS/zoo" \
      > "$RES/$1.log" 2>&1 || echo "$1 stopped before every model finished: see results/$1.log"
    cp "$RUNS/zoo/summary.md" "$RES/$1-summary.md" 2>/dev/null || true
    ;;
  autocomplete)
    local out=$RUNS/autocomplete600 train_for trained=()
    train_for=$(( $(left) - ${AUTOCOMPLETE_RESERVE:-150} ))
    [ "$train_for" -gt 60 ] || { echo "autocomplete: too little time left to train" | tee -a "$RES/skipped.txt"; return 0; }
    [ "$LIMIT" = 0 ] && train_for=0  # no limit: train every pass
    timeout "$(left)" env WIDTH="${WIDTH:-600}" WORDS="${WORDS:-16384}" EPOCHS="${EPOCHS:-10}" DEVICE="$DEVICE" \
      DATA="$WARPEACE" PARALLEL=1 TRAIN_SECONDS="$train_for" MODELS="${AUTOCOMPLETE_MODELS:-gru-2 lstm-2 nlstm-1}" \
      OUT="$out" ZOO="$ZOO" studies/autocomplete/autocomplete_reproduction.sh \
      > "$RES/autocomplete.log" 2>&1 || echo "autocomplete stopped: see results/autocomplete.log"
    cp "$out/accuracy.json" "$RES/autocomplete-accuracy.json" 2>/dev/null || true
    cp "$out/accuracy/accuracy.png" "$RES/autocomplete-accuracy.png" 2>/dev/null || true
    for run in "$out"/*-*x*/; do [ -f "$run/run.json" ] && trained+=("$run"); done
    [ "${#trained[@]}" -gt 0 ] || return 0  # a model stopped before its first pass has no run to measure
    timeout "$(left)" "$PYTHON" studies/oracles-and-horizons/connectivity_horizons.py "${trained[@]}" --windows 20 \
      --figure "$RES/autocomplete-horizons.png" --json "$RES/autocomplete-horizons.json" \
      > "$RES/autocomplete-horizons.txt" 2>&1 || echo "horizons stopped: see results/autocomplete-horizons.txt"
    ;;
  esac
}

for task in "${TASKS[@]}"; do
  if [ "$(left)" -lt 60 ]; then
    echo "$task: skipped, $(left) s left of --time-limit $LIMIT" | tee -a "$RES/skipped.txt"
    continue
  fi
  echo "$task: starting at ${SECONDS} s"
  run_task "$task"
done
