"""Biased-MNIST, --budget cpu: each method at the setting chosen on the validation split.

For each method, the selection runs (ρ = 0.99, seed 0, `--out
docs/results/biased_mnist_selection`) are ranked by their last epoch's accuracy on the
held-out training images recoloured at ρ = 0.1 (`val_unbiased_accuracy` in
biased_mnist_curves.csv). For an SQNN every γ > 0 competes (γ = 0 is the binary layer's
control without a regularizer); for the bias-label baselines every setting of their own
parameter (the weight cap, the Group DRO step) does. Vanilla has nothing to choose. The
chosen (layer, γ) then runs at every (ρ, seed) into docs/results, a model at a time; a
rerun skips finished models. The test images are never read to choose.
The selection run itself (ρ = 0.99, seed 0) is the same command with the same seed, so its
row and curve are copied into docs/results instead of being trained again.

    .venv/bin/python scripts/biased_mnist_final.py binary_bernoulli binary_mi [--rho ...]
"""

import argparse
from pathlib import Path

from keras_sqnn.lab.experiments.biased_mnist import (
    CSV_COLUMNS,
    append_row,
    read_rows,
    row_key,
    run_biased_mnist,
)
from keras_sqnn.lab.experiments.biased_mnist_network import SQNN_METHODS
from keras_sqnn.lab.experiments.biased_mnist_report import chosen_setting

SELECTION = Path("docs/results/biased_mnist_selection/biased_mnist_curves.csv")
RESULTS = Path("docs/results")


def copy_selection_run(method: str, layer: str, gamma: float) -> None:
    """Copy the chosen selection run's row and curve into docs/results (if not there)."""
    done = {row_key(row) for row in read_rows(RESULTS / "biased_mnist.csv")}
    chosen = row_key(
        {"method": method, "rho": 0.99, "seed": 0, "layer": layer, "budget": "cpu", "gamma": gamma}
    )
    for name, columns in (("biased_mnist.csv", CSV_COLUMNS), ("biased_mnist_curves.csv", None)):
        rows = read_rows(SELECTION.parent / name)
        for row in rows:
            if row_key(row) == chosen and row_key(row) not in done:
                append_row(RESULTS / name, row, columns or list(row))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("methods", nargs="+")
    parser.add_argument("--rho", type=float, nargs="+", default=[0.99, 0.995])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    for method in args.methods:
        if method == "vanilla":
            run_biased_mnist(args.rho, methods=[method], seeds=args.seeds, out="docs/results")
            continue
        chosen = chosen_setting(SELECTION.parent, method)
        if chosen is None:
            raise SystemExit(f"No finished selection run of {method} in {SELECTION.parent}")
        layer, gamma, accuracy = chosen
        print(f"[final] {method}: layer={layer} gamma={gamma} (validation {accuracy:.4f})")
        copy_selection_run(method, layer, gamma)
        run_biased_mnist(
            args.rho,
            methods=[method],
            seeds=args.seeds,
            gamma=gamma,
            layer=layer if method in SQNN_METHODS else "last",  # the baselines record "none"
            out="docs/results",
        )


if __name__ == "__main__":
    main()
