"""Training step-time ratios of SQNN layers against a sigmoid Dense baseline, in one run.

Adult-like shape: 100 features -> Dense(64, relu) -> 32 units -> Dense(1, sigmoid), batch 256.
Prints, with and without XLA, the ratio of the step time of
(a) StochasticBinaryDense(32) with the BinaryBernoulli MI and
(b) the same with the joint MI (32 units: the sampled estimator)
to the same MLP with Dense(32, activation="sigmoid"). Targets: (a) <= 1.10, (b) <= 1.5.

Method: the three models are timed in interleaved rounds of ``--steps`` training steps each
(the order rotating from round to round), and each round's ratio is taken against the
baseline timed in the same round, so that the load of a shared machine, which drifts over
seconds, falls alike on both. A step is one call of ``model.train_function``, the function
``fit`` calls once per batch (``fit``'s per-epoch set-up, a few milliseconds per call, is
left out so that rounds can be short; ``--through-fit`` times whole ``fit`` calls instead).
Printed: the median of the per-round ratios, their interquartile range (the noise of this
machine), and the ratio of the models' fastest rounds (20th percentiles of the round times:
the least disturbed steps).

    .venv/bin/python benchmarks/step_time.py [--rounds 200] [--steps 10] [--through-fit]
        [--intra-op-threads N]   # N = 1: no intra-op sharding (see docs/PERFORMANCE.md)
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_sqnn.layers import StochasticBinaryDense  # noqa: E402

BATCH, FEATURES, HIDDEN, UNITS = 256, 100, 64, 32
KINDS = ("sigmoid", "bernoulli", "joint")
TARGETS = {"bernoulli": 1.10, "joint": 1.5}


def build_model(
    kind: str, jit_compile: bool, layer_class: Any = StochasticBinaryDense
) -> keras.Model:
    """The MLP with a sigmoid Dense (``kind="sigmoid"``) or ``layer_class`` with MI ``kind``."""
    if kind == "sigmoid":
        return build_mlp(
            lambda h, s: keras.layers.Dense(UNITS, activation="sigmoid")(h), jit_compile
        )
    return build_mlp(
        lambda h, s: layer_class(UNITS, mi_estimator=kind, gamma=0.1, seed=0)(h, sensitive=s),
        jit_compile,
    )


def build_mlp(middle: Callable[[Any, Any], Any], jit_compile: bool) -> keras.Model:
    """features -> Dense(64, relu) -> ``middle(h, sensitive)`` -> Dense(1, sigmoid), compiled."""
    keras.utils.set_random_seed(0)
    x_in = keras.Input((FEATURES,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    h = keras.layers.Dense(HIDDEN, activation="relu")(x_in)
    out = keras.layers.Dense(1, activation="sigmoid")(middle(h, s_in))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile("adam", "binary_crossentropy", jit_compile=jit_compile)
    return model


def batched_data() -> tf.data.Dataset:
    """8 random batches, repeated: ``({"features", "sensitive"}, y)``.

    Batches are cut once here: slicing and re-batching 256 examples per step in tf.data kept
    one of this machine's two cores busy, competing with the step being timed.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, BATCH, FEATURES)).astype("float32")
    s = rng.integers(0, 2, (8, BATCH)).astype("int32")
    y = rng.integers(0, 2, (8, BATCH)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(({"features": x, "sensitive": s}, y)).repeat()


def _seconds_per_step(model: keras.Model, data: Any, steps: int) -> float:
    """Mean seconds per training step over ``steps`` steps (``data``: a dataset for ``fit``,
    or an iterator whose batches go straight to ``model.train_function``)."""
    started = time.perf_counter()
    if isinstance(data, tf.data.Dataset):
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    else:
        for _ in range(steps):
            model.train_function(data)
    return (time.perf_counter() - started) / steps


def measure(
    jit_compile: bool, data: tf.data.Dataset, rounds: int, steps: int, through_fit: bool
) -> dict:
    """Per-round step times (seconds) of the three models, interleaved."""
    models = {kind: build_model(kind, jit_compile) for kind in KINDS}
    return time_interleaved(models, data, rounds, steps, through_fit)


def time_interleaved(
    models: dict[str, keras.Model],
    data: tf.data.Dataset,
    rounds: int,
    steps: int,
    through_fit: bool = False,
) -> dict[str, np.ndarray]:
    """Per-round seconds per step of each model, in rounds whose order rotates."""
    for model in models.values():
        model.fit(data, steps_per_epoch=30, epochs=1, verbose=0)  # trace, compile, warm up
    inputs = {name: data if through_fit else iter(data) for name in models}
    names = list(models)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_seconds_per_step(models[name], inputs[name], steps))
    return {name: np.array(values) for name, values in times.items()}


def parse_timing_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Add ``--rounds``, ``--steps`` and ``--intra-op-threads``, parse, and apply the threads."""
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument(
        "--intra-op-threads",
        type=int,
        default=0,
        help="TensorFlow intra-op threads for every model (0: TensorFlow's default)",
    )
    args = parser.parse_args()
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--through-fit", action="store_true", help="time whole `fit` calls of --steps steps"
    )
    args = parse_timing_arguments(parser)
    data = batched_data()
    threads = args.intra_op_threads or "default"
    timer = "fit calls" if args.through_fit else "train_function calls"
    print(f"{args.rounds} rounds x {args.steps} steps ({timer}), intra-op threads: {threads}")
    for jit in (False, True):
        times = measure(jit, data, args.rounds, args.steps, args.through_fit)
        parts = [
            f"jit_compile={jit}: sigmoid Dense {np.median(times['sigmoid']) * 1e3:.3f} ms/step"
        ]
        for label, kind in (("(a) bernoulli", "bernoulli"), ("(b) joint", "joint")):
            ratios = times[kind] / times["sigmoid"]
            low, high = np.percentile(ratios, [25, 75])
            fastest = np.percentile(times[kind], 20) / np.percentile(times["sigmoid"], 20)
            parts.append(
                f"{label} ratio {np.median(ratios):.3f} [IQR {low:.2f}-{high:.2f}; "
                f"fastest rounds {fastest:.2f}] (target <= {TARGETS[kind]:.2f})"
            )
        print(" | ".join(parts), flush=True)


if __name__ == "__main__":
    main()
