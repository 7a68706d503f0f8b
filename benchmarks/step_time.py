"""Training step-time ratios of SQNN layers against a sigmoid Dense baseline, in one run.

Adult-like shape: 100 features -> Dense(64, relu) -> 32 units -> Dense(1, sigmoid), batch 256.
Prints, with and without XLA, the ratio of the median step time of
(a) StochasticBinaryDense(32) with the BinaryBernoulli MI and
(b) the same with the joint MI (32 units: the sampled estimator)
to the same MLP with Dense(32, activation="sigmoid"). Targets: (a) <= 1.10, (b) <= 1.5.

    .venv/bin/python benchmarks/step_time.py [--steps 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_sqnn.layers import StochasticBinaryDense  # noqa: E402

BATCH, FEATURES, HIDDEN, UNITS = 256, 100, 64, 32


def _model(kind: str, jit_compile: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    x_in = keras.Input((FEATURES,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    h = keras.layers.Dense(HIDDEN, activation="relu")(x_in)
    if kind == "sigmoid":
        t = keras.layers.Dense(UNITS, activation="sigmoid")(h)
    else:
        t = StochasticBinaryDense(UNITS, mi_estimator=kind, gamma=0.1, seed=0)(h, sensitive=s_in)
    out = keras.layers.Dense(1, activation="sigmoid")(t)
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile("adam", "binary_crossentropy", jit_compile=jit_compile)
    return model


def _step_seconds(model: keras.Model, data: tf.data.Dataset, steps: int) -> float:
    model.fit(data, steps_per_epoch=20, epochs=1, verbose=0)  # trace and warm up
    started = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH * 8, FEATURES)).astype("float32")
    s = rng.integers(0, 2, len(x)).astype("int32")
    y = rng.integers(0, 2, len(x)).astype("float32")
    data = (
        tf.data.Dataset.from_tensor_slices(({"features": x, "sensitive": s}, y))
        .repeat()
        .batch(BATCH, drop_remainder=True)
        .prefetch(4)
    )
    for jit in (False, True):
        models = {kind: _model(kind, jit) for kind in ("sigmoid", "bernoulli", "joint")}
        times: dict[str, list[float]] = {kind: [] for kind in models}
        # Interleave the repeats so drifting machine load hits every model alike.
        for _ in range(args.repeats):
            for kind, model in models.items():
                times[kind].append(_step_seconds(model, data, args.steps))
        median = {kind: float(np.median(values)) for kind, values in times.items()}
        print(
            f"jit_compile={jit}: sigmoid Dense {median['sigmoid'] * 1e3:.3f} ms/step | "
            f"(a) bernoulli ratio {median['bernoulli'] / median['sigmoid']:.3f} (target <= 1.10) | "
            f"(b) joint ratio {median['joint'] / median['sigmoid']:.3f} (target <= 1.5)"
        )


if __name__ == "__main__":
    main()
