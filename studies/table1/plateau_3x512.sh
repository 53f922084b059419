#!/usr/bin/env bash
# Why the paper's 3x512 LSTM sits on the unigram plateau with the paper's recipe
# (studies/table1/README.md, "The 3x512 and the unigram plateau"): one epoch of War and Peace (LF,
# 80/10/10) for each variant, the model kept every 20 steps; then, at chosen steps, how many
# gate values are unsaturated per layer (the saturation analyzer on the first 5,000 test
# characters), and the epoch's training and validation cross-entropy.
#
#   studies/table1/plateau_3x512.sh     # from the repository root; the four variants, about 55 minutes on 2 CPU cores
#   DEVICE=cuda VARIANTS="paper lr5e-4" studies/table1/plateau_3x512.sh
#
# Variants: paper (lr 2e-3, clip 5), fb1 (forget gates started at +1), clip005 (clip at 0.05,
# char-rnn's 5 on the gradient of the loss summed over 100 steps), lr5e-4 (lr 5e-4).
# DATA: the text (default warpeace, the dataset by name, or its file: docs/datasets.md).
set -euo pipefail
DATA=${DATA:-warpeace}
DEVICE=${DEVICE:-auto}
VARIANTS=${VARIANTS:-paper fb1 clip005 lr5e-4}
STEPS=${STEPS:-20 100 140 200}
ZOO=${ZOO:-.venv/bin/zoo}
PYTHON=${PYTHON:-.venv/bin/python}

declare -A OPTIONS=([paper]="" [fb1]="--forget-bias 1" [clip005]="--clip-value 0.05" [lr5e-4]="--lr 5e-4")
for v in $VARIANTS; do
    run=runs/plateau/$v
    [ -f "$run/run.json" ] || $ZOO train --model lstm-3x512 --data "$DATA" --epochs 1 --snapshot-every 20 \
        --device "$DEVICE" --out "$run" --quiet ${OPTIONS[$v]}
done

echo "variant  step  unsaturated gate values (layers 1, 2, 3)"
for v in $VARIANTS; do
    for step in $STEPS; do
        snapshot=runs/plateau/$v/steps/$(printf %08d "$step")
        [ -d "$snapshot" ] || continue
        $ZOO analyze --model "$snapshot" --analyzer saturation --max-chars 5000 --device "$DEVICE" \
            --out "runs/plateau/$v/saturation-$step" --quiet --json |
            $PYTHON -c "import json, sys; print('$v  $step ', *(f\"{l['mean_unsaturated']:.3f}\" for l in json.load(sys.stdin)['saturation']['summary']['layers']))"
    done
    if [ -f "runs/plateau/$v/run.json" ]; then
        $PYTHON -c "import json; h = json.load(open('runs/plateau/$v/run.json'))['history'][0]; print('$v  epoch 1: train', round(h['train_nats'], 4), 'valid', round(h['valid_nats'], 4))"
    fi
done
