#!/usr/bin/env bash
# The analyses behind docs/analyses.md's results, on runs trained with the paper's recipe:
#
#   zoo train --model lstm-3x128.warpeace --data ../shared/data/warpeace.txt --line-endings crlf --out runs/lstm-3x128.warpeace
#   zoo train --model lstm-3x128.linux --data ../shared/data/linux.txt --line-endings crlf --split 0.9,0.05,0.05 --out runs/lstm-3x128.linux
#   scripts/analysis_results.sh runs/lstm-3x128.warpeace runs/lstm-3x128.linux
#
# Reports go to reports/<run>/<analyzer>/; the summaries print as JSON into reports/*.json.
set -euo pipefail
WP=${1:-runs/lstm-3x128.warpeace}
LINUX=${2:-runs/lstm-3x128.linux}
ZOO=${ZOO:-.venv/bin/zoo}

for run in "$WP" "$LINUX"; do
    $ZOO eval --model "$run" --json > "reports/$(basename "$run").eval.json"
    $ZOO analyze --model "$run" --analyzer cells,saturation --quiet --json > "reports/$(basename "$run").cells-saturation.json"
done
$ZOO analyze --model "$WP" --analyzer oracles --quiet --json > "reports/$(basename "$WP").oracles.json"

# the 20-gram of the Linux training split, then the Section 4.3 comparisons against it
NGRAM=runs/ngram-20.linux-crlf
[ -f "$NGRAM/config.json" ] || $ZOO baseline fit ngram --order 20 --data ../shared/data/linux.txt --line-endings crlf \
    --split 0.9,0.05,0.05 --out "$NGRAM" --quiet
$ZOO analyze --model "$LINUX" --reference "$NGRAM" --analyzer char-probs,bracket-distance,error-overlap --quiet --json \
    > "reports/$(basename "$LINUX").comparisons.json"
