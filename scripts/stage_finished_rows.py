"""Stage (git add) Biased-MNIST results without the curve rows of a model still training.

    .venv/bin/python scripts/stage_finished_rows.py docs/results docs/results/biased_mnist_selection

For each folder, ``biased_mnist.csv`` is staged as it is (a row is written when its model
has finished) and ``biased_mnist_curves.csv`` with only the epochs of finished models, so a
commit made while a run is going holds no partial curve. The working files are untouched.
"""

import csv
import subprocess
import sys
from pathlib import Path

from keras_sqnn.lab.experiments.biased_mnist import row_key


def stage(folder: Path) -> None:
    results, curves = folder / "biased_mnist.csv", folder / "biased_mnist_curves.csv"
    subprocess.run(["git", "add", str(results)], check=True)
    with open(results, newline="") as f:
        finished = {row_key(row) for row in csv.DictReader(f)}
    lines = curves.read_bytes().decode().splitlines(keepends=True)  # kept byte for byte
    columns = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        row = dict(zip(columns, next(csv.reader([line])), strict=True))
        if row_key(row) in finished:
            kept.append(line)
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        input="".join(kept),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        ["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{curves}"], check=True
    )
    print(f"staged {results} and {len(kept) - 1} finished curve rows of {curves}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        stage(Path(name))
