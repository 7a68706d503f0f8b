"""Step-time ratios of this checkout's SQNN layer and of another git revision's, in one run.

A change to the layer moves `step_time.py`'s ratios by a few percent, less than they move
between runs on a shared machine. This script times, in the same interleaved rounds, the
sigmoid-Dense baseline and the same MLP with `StochasticBinaryDense` from this checkout and
from ``--against`` (exported with ``git archive`` into a temporary package), and prints
each one's median ratio to the baseline and the median of the per-round ratio new / old.

    .venv/bin/python benchmarks/compare_revisions.py --against HEAD~1 [--jit]
        [--rounds 300] [--steps 10] [--estimators bernoulli joint]
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from step_time import batched_data, build_model, time_interleaved  # noqa: E402  (this script's folder)

from keras_sqnn.layers import StochasticBinaryDense  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def import_revision(revision: str, directory: Path) -> Any:
    """``keras_sqnn.layers`` as of ``revision``, imported as a package of another name."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", commit, "keras_sqnn"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: no paths out of `directory`
            tar.extractall(directory, filter="data")
        else:
            tar.extractall(directory)
    name = f"keras_sqnn_{commit}"
    (directory / "keras_sqnn").rename(directory / name)
    for path in (directory / name).rglob("*.py"):
        # Imports and the serialization package name ("keras_sqnn>..."): no clash on import.
        path.write_text(path.read_text().replace("keras_sqnn", name))
    sys.path.insert(0, str(directory))
    return importlib.import_module(f"{name}.layers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument("--jit", action="store_true", help="compile the steps with XLA")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument("--estimators", nargs="+", default=["bernoulli", "joint"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        old_layers = import_revision(args.against, Path(directory))
        classes = {"old": old_layers.StochasticBinaryDense, "new": StochasticBinaryDense}
        models = {"sigmoid": build_model("sigmoid", args.jit)}
        for estimator in args.estimators:
            for version, layer_class in classes.items():
                models[f"{version} {estimator}"] = build_model(estimator, args.jit, layer_class)
        arrays = time_interleaved(models, batched_data(), args.rounds, args.steps)
    base = arrays["sigmoid"]
    print(
        f"jit_compile={args.jit}, against {args.against}: sigmoid Dense "
        f"{np.median(base) * 1e3:.3f} ms/step, {args.rounds} rounds x {args.steps} steps"
    )
    for estimator in args.estimators:
        old, new = arrays[f"old {estimator}"], arrays[f"new {estimator}"]
        print(
            f"  {estimator}: ratio old {np.median(old / base):.3f}, new "
            f"{np.median(new / base):.3f}; new / old {np.median(new / old):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
