#!/usr/bin/env bash
# Biased-MNIST selection grid (--budget cpu, rho 0.99, seed 0), scored on the validation
# split held out from the MNIST training images. Each finished model appends one row to
# docs/results/biased_mnist_selection/biased_mnist.csv; a rerun skips the finished ones.
#
#   nohup bash scripts/biased_mnist_selection.sh > logs/selection.log 2>&1 &
#
# gamma = 0 is each placement's control (binary layer, no MI term). BinaryMI stops at
# gamma = 0.5: TradeoffLoss weighs the task by 1 - gamma, so gamma = 1 trains on the MI alone.
set -euo pipefail
cd "$(dirname "$0")/.."
KERAS_SQNN=${KERAS_SQNN:-.venv/bin/keras-sqnn}
OUT=${OUT:-docs/results/biased_mnist_selection}

run() {
    "$KERAS_SQNN" biased-mnist --budget cpu --rho 0.99 --seeds 0 --out "$OUT" "$@"
}

for gamma in 0 1e-6 1e-5 1e-4 1e-3; do
    run --methods binary_bernoulli --layer first --gamma "$gamma"
done
for gamma in 0 1e-6 1e-5 1e-4; do
    run --methods binary_bernoulli --layer all --gamma "$gamma"
done
for gamma in 0.1 0.5; do
    run --methods binary_mi --layer last --gamma "$gamma"
done
