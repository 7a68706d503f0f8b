"""Training step-time ratios of SQNN layers against the same network with a sigmoid layer.

Prints, in one run, with and without XLA (``jit_compile``) and for both samplers (``tfp``,
the default, and ``philox``), the ratio of the training step time of

(a) an Adult-like MLP (100 features -> Dense(64, relu) -> 32 units -> Dense(1, sigmoid), batch
    256) with ``StochasticBinaryDense(32)`` and the BinaryBernoulli MI,
(b) the same MLP with the joint MI (32 units: the sampled estimator),
(c) a Biased-MNIST-shaped CNN (28x28x3 images, batch 128; first layer 16 3x3 filters ->
    Conv2D(32, 3, relu) -> MaxPool -> Conv2D(64, 3, relu) -> global average pool ->
    Dense(10, softmax)) with ``StochasticBinaryConv2D(16, 3)`` first and the BinaryBernoulli
    MI over 10 groups,

to the same network with a sigmoid ``Dense`` / ``Conv2D`` in place of the stochastic layer.
Targets with the default sampler, without XLA: (a) <= 1.30, (b) <= 1.6, (c) <= 1.20.

Method: the models of one network are timed in interleaved rounds of ``--steps`` training
steps each (the order rotating from round to round), and each round's ratio is taken against
the baseline timed in the same round, so that the load of a shared machine, which drifts over
seconds, falls alike on all. A step is one call of ``model.train_function``, the function
``fit`` calls once per batch. Printed: the median of the per-round ratios and their
interquartile range (the noise of this machine).

    .venv/bin/python benchmarks/step_time.py [--rounds 200] [--cnn-rounds 30] [--steps 10]
        [--intra-op-threads N]
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

from keras_sqnn.layers import StochasticBinaryConv2D, StochasticBinaryDense  # noqa: E402

BATCH, FEATURES, HIDDEN, UNITS = 256, 100, 64, 32
CNN_BATCH, IMAGE_SHAPE, FILTERS, GROUPS = 128, (28, 28, 3), 16, 10
SAMPLERS = ("tfp", "philox")
TARGETS = {
    "(a) MLP, BinaryBernoulli": 1.30,
    "(b) MLP, joint": 1.6,
    "(c) CNN, BinaryBernoulli": 1.20,
}


def mlp_models(jit_compile: bool) -> dict[str, keras.Model]:
    """The baseline MLP, and (a) and (b) with each sampler (keys ``"<case> <sampler>"``)."""
    models = {
        "baseline": build_mlp(
            lambda h, s: keras.layers.Dense(UNITS, activation="sigmoid")(h), jit_compile
        )
    }
    for case, estimator in (("(a) MLP, BinaryBernoulli", "bernoulli"), ("(b) MLP, joint", "joint")):
        for sampler in SAMPLERS:
            models[f"{case} {sampler}"] = build_mlp(
                stochastic_dense(estimator, sampler), jit_compile
            )
    return models


def stochastic_dense(estimator: str | None, sampler: str = "tfp") -> Callable[[Any, Any], Any]:
    """``middle`` for :func:`build_mlp`: ``StochasticBinaryDense(32)`` with the MI ``estimator``."""

    def middle(h: Any, sensitive: Any) -> Any:
        layer = StochasticBinaryDense(
            UNITS, mi_estimator=estimator, gamma=0.1, sampler=sampler, seed=0
        )
        return layer(h, sensitive=sensitive)

    return middle


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


def cnn_models(jit_compile: bool) -> dict[str, keras.Model]:
    """The baseline CNN and (c) with each sampler."""
    models = {
        "baseline": build_cnn(
            lambda x, s: keras.layers.Conv2D(FILTERS, 3, activation="sigmoid")(x), jit_compile
        )
    }
    for sampler in SAMPLERS:

        def first(x: Any, s: Any, sampler: str = sampler) -> Any:
            layer = StochasticBinaryConv2D(
                FILTERS,
                3,
                mi_estimator="bernoulli",
                gamma=0.1,
                num_groups=GROUPS,
                sampler=sampler,
                seed=0,
            )
            return layer(x, sensitive=s)

        models[f"(c) CNN, BinaryBernoulli {sampler}"] = build_cnn(first, jit_compile)
    return models


def build_cnn(first: Callable[[Any, Any], Any], jit_compile: bool) -> keras.Model:
    """images -> ``first(images, sensitive)`` -> conv, pool, conv, pool -> Dense(10), compiled."""
    keras.utils.set_random_seed(0)
    x_in = keras.Input(IMAGE_SHAPE, name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    h = keras.layers.Conv2D(32, 3, activation="relu")(first(x_in, s_in))
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(64, 3, activation="relu")(h)
    out = keras.layers.Dense(10, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit_compile)
    return model


def batched_images() -> tf.data.Dataset:
    """4 random batches of images, colours and digits, repeated (cut once, as above)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, CNN_BATCH, *IMAGE_SHAPE)).astype("float32")
    s = rng.integers(0, GROUPS, (4, CNN_BATCH)).astype("int32")
    y = rng.integers(0, 10, (4, CNN_BATCH)).astype("int32")
    return tf.data.Dataset.from_tensor_slices(({"features": x, "sensitive": s}, y)).repeat()


def _seconds_per_step(model: keras.Model, batches: Any, steps: int) -> float:
    """Mean seconds per call of ``model.train_function`` over ``steps`` batches."""
    started = time.perf_counter()
    for _ in range(steps):
        model.train_function(batches)
    return (time.perf_counter() - started) / steps


def time_interleaved(
    models: dict[str, keras.Model], data: tf.data.Dataset, rounds: int, steps: int
) -> dict[str, np.ndarray]:
    """Per-round seconds per step of each model, in rounds whose order rotates."""
    for model in models.values():
        model.fit(data, steps_per_epoch=10, epochs=1, verbose=0)  # trace, compile, warm up
    inputs = {name: iter(data) for name in models}
    names = list(models)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_seconds_per_step(models[name], inputs[name], steps))
    return {name: np.array(values) for name, values in times.items()}


def ratio_summary(times: dict[str, np.ndarray], name: str) -> str:
    """``median [IQR low-high]`` of ``name``'s per-round ratios to the baseline."""
    ratios = times[name] / times["baseline"]
    low, high = np.percentile(ratios, [25, 75])
    return f"{np.median(ratios):.2f} [IQR {low:.2f}-{high:.2f}]"


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
    parser.add_argument("--cnn-rounds", type=int, default=30, help="rounds of the CNN (c)")
    args = parse_timing_arguments(parser)
    print(
        f"MLP: {args.rounds} rounds, CNN: {args.cnn_rounds} rounds, x {args.steps} steps; "
        f"intra-op threads: {args.intra_op_threads or 'default'}"
    )
    table: dict[tuple[str, str], list[str]] = {}
    for jit in (False, True):
        for build, data, rounds in (
            (mlp_models, batched_data(), args.rounds),
            (cnn_models, batched_images(), args.cnn_rounds),
        ):
            times = time_interleaved(build(jit), data, rounds, args.steps)
            print(f"jit_compile={jit}: baseline {np.median(times['baseline']) * 1e3:.2f} ms/step")
            for name in list(times)[1:]:
                case, sampler = name.rsplit(" ", 1)
                table.setdefault((case, sampler), []).append(ratio_summary(times, name))
    print("\n| case | sampler | no XLA | XLA | target (tfp, no XLA) |\n|---|---|---|---|---|")
    for (case, sampler), (plain, xla) in table.items():
        print(f"| {case} | {sampler} | {plain} | {xla} | <= {TARGETS[case]:.2f} |")


if __name__ == "__main__":
    main()
