#!/usr/bin/env bash
# Biased-MNIST (Table 1) at the paper budget, in one go, on a GPU machine.
#
# ReBias' SimpleConvNet and training (80 epochs, all 60,000 training images) at rho = 0.99,
# 0.995 and 0.997, 3 seeds, for vanilla, the paper's two SQNNs, the conditional SQNN
# (I(T; colour | digit), beyond the paper) and the two baselines that use the colour labels
# too: group reweighting (its gamma is the weights' cap) and Group DRO (its step size).
# Each method runs at the setting chosen on the validation split of the CPU protocol
# (docs/results/biased_mnist_selection, the rule of scripts/biased_mnist_final.py), unless
# given as "LAYER GAMMA" (an SQNN) or "GAMMA" (a baseline) in the variables below. Each
# finished model appends one row to $OUT/biased_mnist.csv (per-epoch numbers to
# biased_mnist_curves.csv); a rerun skips the rows already there, and a killed model
# resumes from its last epoch ($OUT/biased_mnist_backup/).
#
#   bash scripts/biased_mnist_gpu.sh                 # from the repository root
#   OUT=results BINARY_BERNOULLI="last 0.001" GROUP_DRO=0.01 bash scripts/biased_mnist_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KERAS_SQNN=${KERAS_SQNN:-.venv/bin/keras-sqnn}
PYTHON="$(dirname "$KERAS_SQNN")/python"
OUT=${OUT:-docs/results}
SEEDS=${SEEDS:-"0 1 2"}
RHOS=${RHOS:-"0.99 0.995 0.997"}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv

# The GPUs TensorFlow sees (on stderr), and each method's "METHOD LAYER GAMMA" chosen on
# the CPU protocol's validation split.
CHOSEN=$("$PYTHON" - <<'PY'
import sys
from pathlib import Path

import tensorflow as tf

from keras_sqnn.lab.experiments.biased_mnist_report import chosen_setting

print("GPUs:", tf.config.list_physical_devices("GPU"), file=sys.stderr)

selection = Path("docs/results/biased_mnist_selection")
ran = (selection / "biased_mnist_curves.csv").exists()
for method in ("binary_bernoulli", "binary_mi", "binary_bernoulli_conditional",
               "reweighting", "group_dro"):
    choice = chosen_setting(selection, method) if ran else None
    print(method, *(choice[:2] if choice else ("?", "?")))
PY
)

chosen() {  # METHOD [gamma]: its chosen "LAYER GAMMA", or only the GAMMA
    local layer gamma
    read -r layer gamma <<< "$(awk -v m="$1" '$1 == m {print $2, $3}' <<< "$CHOSEN")"
    if [[ "$gamma" == "?" ]]; then
        echo "no finished selection run of $1: give its setting" >&2
        exit 1
    fi
    if [[ "${2:-}" == gamma ]]; then echo "$gamma"; else echo "$layer $gamma"; fi
}

BINARY_BERNOULLI=${BINARY_BERNOULLI:-$(chosen binary_bernoulli)}
BINARY_MI=${BINARY_MI:-$(chosen binary_mi)}
CONDITIONAL=${CONDITIONAL:-$(chosen binary_bernoulli_conditional)}
REWEIGHTING=${REWEIGHTING:-$(chosen reweighting gamma)}
GROUP_DRO=${GROUP_DRO:-$(chosen group_dro gamma)}

run() {
    # shellcheck disable=SC2086
    "$KERAS_SQNN" biased-mnist --budget paper --rho $RHOS --seeds $SEEDS --out "$OUT" "$@"
}

sqnn() {  # METHOD "LAYER GAMMA"
    read -r layer gamma <<< "$2"
    run --methods "$1" --layer "$layer" --gamma "$gamma"
}

run --methods vanilla
sqnn binary_bernoulli "$BINARY_BERNOULLI"
sqnn binary_mi "$BINARY_MI"
sqnn binary_bernoulli_conditional "$CONDITIONAL"
run --methods reweighting --gamma "$REWEIGHTING"
run --methods group_dro --gamma "$GROUP_DRO"
echo "[biased_mnist_gpu] results in $OUT/biased_mnist.csv"
