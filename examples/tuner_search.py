"""A small Bayesian search of the paper's space on the inner folds of COMPAS's first outer fold.

.venv/bin/python examples/tuner_search.py [--max-trials 3] [--epochs 3] [--directory DIR]
"""

import argparse
import tempfile

from keras_sqnn.datasets import fetch_compas
from keras_sqnn.tuning import nested_search


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--directory", default=None)
    args = parser.parse_args()
    directory = args.directory or tempfile.mkdtemp(prefix="sqnn-search-")
    table = nested_search(
        fetch_compas(),
        directory=directory,
        max_trials=args.max_trials,
        epochs=args.epochs,
        outer_folds=[0],
        overwrite=True,
        probe_trees=50,
    )
    print(table.T)


if __name__ == "__main__":
    main()
