"""Graph cost of a stochastic binary layer's training path, without Keras' per-step overhead.

Times, in microseconds, one forward and backward pass of the layer's output stage on
256 x 32 pre-activations: sigmoid (the baseline Dense activation), sampling with the
straight-through estimator (no MI), and sampling plus the BinaryBernoulli or the joint MI
term with its input checks. The passes are chained ``--chain`` times inside one
``tf.function`` so that the function-call overhead is spread out; printed: the median and
the minimum over ``--repeats`` timings. A complement to ``step_time.py``, whose whole-step
ratios move by +-0.3 on a shared 2-core machine.

    .venv/bin/python benchmarks/layer_cost.py [--repeats 9] [--intra-op-threads N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_sqnn.layers import StochasticBinaryDense  # noqa: E402

BATCH, UNITS = 256, 32


def _layer_pass(mi_estimator: str | None, sensitive: Any, weights: Any) -> Callable:
    layer = StochasticBinaryDense(UNITS, mi_estimator=mi_estimator, gamma=0.1, seed=0)
    layer.build((None, 64))
    losses: list[Any] = []
    layer.add_loss = losses.append  # type: ignore[method-assign]  # collect, outside a model

    def forward_backward(logits: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(logits)
            losses.clear()
            codes = layer._stochastic_binary(logits, sensitive, True)
            loss = tf.reduce_sum(codes * weights) + sum(losses)
        # The loss joins the output, as in a training step (else its ops would be pruned).
        return tape.gradient(loss, logits) + 1e-12 * loss

    return forward_backward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--chain", type=int, default=10)
    parser.add_argument("--intra-op-threads", type=int, default=0)
    args = parser.parse_args()
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(BATCH, UNITS)).astype("float32"))
    sensitive = tf.constant(rng.integers(0, 2, BATCH).astype("int32"))
    weights = tf.constant(rng.normal(size=(BATCH, UNITS)).astype("float32"))

    def sigmoid_pass(z: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = tf.reduce_sum(tf.sigmoid(z) * weights)
        return tape.gradient(loss, z) + 1e-12 * loss

    passes = {
        "sigmoid (baseline)": sigmoid_pass,
        "sample + straight-through": _layer_pass(None, sensitive, weights),
        "+ bernoulli MI": _layer_pass("bernoulli", sensitive, weights),
        "+ joint MI (sampled)": _layer_pass("joint", sensitive, weights),
    }

    def chained(one_pass: Callable) -> Callable:
        @tf.function
        def run(z: Any) -> Any:
            for _ in range(args.chain):
                z = z + 1e-3 * one_pass(z)
            return z

        return run

    functions = {name: chained(one_pass) for name, one_pass in passes.items()}
    for function in functions.values():
        function(logits)  # trace
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(args.repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            for _ in range(20):
                function(logits)
            times[name].append((time.perf_counter() - started) / 20 / args.chain * 1e6)
    print(f"us per forward+backward pass, {BATCH} x {UNITS} units (median / min):")
    for name, values in times.items():
        print(f"  {name:28s} {np.median(values):7.1f} / {np.min(values):7.1f}")


if __name__ == "__main__":
    main()
