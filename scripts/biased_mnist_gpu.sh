#!/usr/bin/env bash
# Biased-MNIST (Table 1) at the paper budget, in one go, on a GPU machine.
#
# ReBias' SimpleConvNet and training (80 epochs, all 60,000 training images) for vanilla
# and both SQNNs at rho = 0.99, 0.995 and 0.997, 3 seeds, with the binary convolution
# first, last and everywhere, the conditional SQNN (I(T; colour | digit), beyond the paper)
# on the last block at its own gamma, and the two baselines that use the colour labels
# too: group reweighting (GAMMA is the weights' cap) and Group DRO (its step size). Each finished model appends one row to
# $OUT/biased_mnist.csv (per-epoch numbers to biased_mnist_curves.csv); a rerun skips the
# rows already there, and a killed model resumes from its last epoch
# ($OUT/biased_mnist_backup/).
#
#   bash scripts/biased_mnist_gpu.sh                 # from the repository root
#   OUT=results GAMMA=0.1 CONDITIONAL_GAMMA=0.5 REWEIGHT_CAP=100 DRO_STEP=0.01 \
#       bash scripts/biased_mnist_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KERAS_SQNN=${KERAS_SQNN:-.venv/bin/keras-sqnn}
OUT=${OUT:-docs/results}
GAMMA=${GAMMA:-0.01}
CONDITIONAL_GAMMA=${CONDITIONAL_GAMMA:-0.5}
SEEDS=${SEEDS:-"0 1 2"}
RHOS=${RHOS:-"0.99 0.995 0.997"}
REWEIGHT_CAP=${REWEIGHT_CAP:-100}
DRO_STEP=${DRO_STEP:-0.01}
LAYERS=${LAYERS:-"first last all"}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv
"$(dirname "$KERAS_SQNN")/python" -c "import tensorflow as tf; print('GPUs:', tf.config.list_physical_devices('GPU'))"

run() {
    # shellcheck disable=SC2086
    "$KERAS_SQNN" biased-mnist --budget paper --rho $RHOS --seeds $SEEDS --out "$OUT" "$@"
}

run --methods vanilla --gamma "$GAMMA"
for layer in $LAYERS; do
    run --methods binary_bernoulli binary_mi --layer "$layer" --gamma "$GAMMA"
done
run --methods binary_bernoulli_conditional --layer last --gamma "$CONDITIONAL_GAMMA"
run --methods reweighting --gamma "$REWEIGHT_CAP"
run --methods group_dro --gamma "$DRO_STEP"
echo "[biased_mnist_gpu] results in $OUT/biased_mnist.csv"
