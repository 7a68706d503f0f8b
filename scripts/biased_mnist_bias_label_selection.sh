#!/usr/bin/env bash
# Biased-MNIST: the bias-label baselines' own selection (--budget cpu, rho 0.99, seed 0),
# on the validation split held out from the MNIST training images, as for the SQNNs
# (scripts/biased_mnist_selection.sh). Resumable: finished models are skipped.
#
#   nohup bash scripts/biased_mnist_bias_label_selection.sh > logs/bias_label.log 2>&1 &
#
# reweighting: --gamma is the cap on an image's weight (a group of average size weighs 1);
# group_dro: --gamma is Group DRO's step size.
set -euo pipefail
cd "$(dirname "$0")/.."
KERAS_SQNN=${KERAS_SQNN:-.venv/bin/keras-sqnn}
OUT=${OUT:-docs/results/biased_mnist_selection}

run() {
    "$KERAS_SQNN" biased-mnist --budget cpu --rho 0.99 --seeds 0 --out "$OUT" "$@"
}

for cap in 10 100 1000; do
    run --methods reweighting --gamma "$cap"
done
for step in 0.001 0.01 0.1; do
    run --methods group_dro --gamma "$step"
done
