#!/usr/bin/env bash
# The analyses of this study's 3x128 LSTMs (studies/cells-and-comparisons/README.md): cells and
# saturation of both, the error analysis of the War and Peace model, and the Section 4.3
# comparisons of the Linux model against a 20-gram of its training split. Run from the repository
# root, on runs trained with the paper's recipe:
#
#   zoo train --model lstm-3x128.warpeace --data warpeace --line-endings crlf --out runs/lstm-3x128.warpeace
#   zoo train --model lstm-3x128.linux --data linux.txt --line-endings crlf --split 0.9,0.05,0.05 --out runs/lstm-3x128.linux
#   LINUX=linux.txt studies/cells-and-comparisons/analysis_results.sh runs/lstm-3x128.warpeace runs/lstm-3x128.linux
#
# LINUX is the Linux corpus's file (docs/datasets.md), which the 20-gram is fitted to. Reports go
# to reports/<run>/<analyzer>/; the summaries print as JSON into reports/*.json.
set -euo pipefail
WP=${1:-runs/lstm-3x128.warpeace}
LINUX_RUN=${2:-runs/lstm-3x128.linux}
LINUX=${LINUX:?set LINUX to the Linux corpus file (docs/datasets.md)}
ZOO=${ZOO:-.venv/bin/zoo}
mkdir -p reports

for run in "$WP" "$LINUX_RUN"; do
    $ZOO eval --model "$run" --json > "reports/$(basename "$run").eval.json"
    $ZOO analyze --model "$run" --analyzer cells,saturation --quiet --json > "reports/$(basename "$run").cells-saturation.json"
done
$ZOO analyze --model "$WP" --analyzer oracles --quiet --json > "reports/$(basename "$WP").oracles.json"

# the 20-gram of the Linux training split, then the Section 4.3 comparisons against it
NGRAM=runs/ngram-20.linux-crlf
[ -f "$NGRAM/config.json" ] || $ZOO baseline fit ngram --order 20 --data "$LINUX" --line-endings crlf \
    --split 0.9,0.05,0.05 --out "$NGRAM" --quiet
$ZOO analyze --model "$LINUX_RUN" --reference "$NGRAM" --analyzer char-probs,bracket-distance,error-overlap --quiet --json \
    > "reports/$(basename "$LINUX_RUN").comparisons.json"
