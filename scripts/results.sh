#!/usr/bin/env bash
# Regenerates docs/RESULTS.md from the small-budget runs (a few hours on a 2-core CPU).
#   bash scripts/results.sh [OUT]      (default OUT=results)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results}
SQNN=.venv/bin/keras-sqnn
for dataset in compas adult banks; do
  $SQNN compare --dataset "$dataset" --budget small --out "$OUT"
done
$SQNN sweep --dataset compas --budget small --out "$OUT"
$SQNN biased-mnist --budget cpu --rho 0.99 0.995 --seeds 0 1 2 --out docs/results
.venv/bin/python scripts/make_results.py "$OUT" docs/RESULTS.md
