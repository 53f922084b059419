#!/usr/bin/env bash
# The paper's Section 4.3 on War and Peace (studies/cells-and-comparisons/README.md, "The first
# epochs against the n-NN" and "Against the 20-gram: War and Peace"): a 3-layer LSTM trained with
# the paper's recipe, kept every 20 steps through its first three epochs; the n-NN baselines
# n = 1..6 and the 20-gram of the same training split; then training-kl over the snapshots, and
# char-probs, bracket-distance (parentheses) and error-overlap of the model after EPOCHS against
# the 20-gram.
#
#   studies/cells-and-comparisons/section43_warpeace.sh            # from the repository root
#   MODEL=lstm-3x512 EPOCHS=50 DEVICE=cuda studies/cells-and-comparisons/section43_warpeace.sh
#
# Defaults: MODEL=lstm-3x128 EPOCHS=18 DEVICE=auto NNN_EPOCHS=10 NNN_DEVICE=cpu
# DATA=warpeace (the dataset by name, or its file: docs/datasets.md). Every step resumes or skips
# what a previous call finished, so the script can be run again after an interruption.
# Reports: reports/<MODEL>.warpeace-lf/.
set -euo pipefail
DATA=${DATA:-warpeace}
MODEL=${MODEL:-lstm-3x128}
EPOCHS=${EPOCHS:-18}
DEVICE=${DEVICE:-auto}
NNN_EPOCHS=${NNN_EPOCHS:-10}
NNN_DEVICE=${NNN_DEVICE:-cpu}
ZOO=${ZOO:-.venv/bin/zoo}
RUN=runs/$MODEL.warpeace-lf  # LF line ends, as runs/ngram-20.warpeace (analysis_results.sh: CR LF)
REPORTS=reports/$MODEL.warpeace-lf
mkdir -p "$REPORTS"

train() {  # train (or continue) the run up to $1 epochs
    local resume=()
    [ -f "$RUN/run.json" ] && resume=(--resume)
    $ZOO train --model "$MODEL" --data "$DATA" --snapshot-every 20 --epochs "$1" --patience 0 \
        --device "$DEVICE" --out "$RUN" "${resume[@]}" --quiet
}

# Fig. 5 right: the first three epochs against the n-NN baselines
train 3
refs=()
for n in 1 2 3 4 5 6; do
    [ -f "runs/nnn-$n.warpeace/config.json" ] || $ZOO baseline fit nnn --order "$n" --data "$DATA" \
        --set epochs="$NNN_EPOCHS" --set device="$NNN_DEVICE" --out "runs/nnn-$n.warpeace" --quiet
    refs+=(--reference "runs/nnn-$n.warpeace")
done
$ZOO analyze --model "$RUN" --analyzer training-kl "${refs[@]}" --out "$REPORTS/training-kl" --quiet --json \
    > "$REPORTS/training-kl.json"

# Fig. 4 and Fig. 5 left: the trained model against the 20-gram (KenLM's 21-gram)
train "$EPOCHS"
$ZOO eval --model "$RUN" --json > "$REPORTS/eval.json"
NGRAM=runs/ngram-20.warpeace
[ -f "$NGRAM/config.json" ] || $ZOO baseline fit ngram --order 20 --data "$DATA" --out "$NGRAM" --quiet
$ZOO analyze --model "$RUN" --reference "$NGRAM" --analyzer char-probs,bracket-distance,error-overlap \
    --set bracket-distance.brackets='()' --out "$REPORTS" --quiet --json > "$REPORTS/comparisons.json"
