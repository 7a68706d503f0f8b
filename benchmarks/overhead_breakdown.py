"""Where a stochastic layer's step time goes: step_time.py's MLP with its parts in turn.

Same MLP, data and timing as ``step_time.py`` (interleaved rounds of ``train_function``
calls, each round's ratio taken against the sigmoid-``Dense`` baseline of the same round),
with these middle layers:

1. the baseline again: a control (two copies of one model differ by a few percent; read
   the other lines against this one, not against 1.00);
2. ``StochasticBinaryDense(32)`` without MI: the layer with its seed step, Bernoulli draw
   (``--sampler``, default tfp) and straight-through estimator;
3. ``StochasticBinaryDense(32)`` with the BinaryBernoulli MI but codes thresholded at 0.5
   instead of sampled: the layer with the MI term, its input checks and its logged metric,
   without the random draw;
4. (a) of ``step_time.py``: line 3 plus the random draw;
5. (b) of ``step_time.py``: the joint MI with sampled codes.

Printed per line: the median round ratio to the baseline [interquartile range].

    .venv/bin/python benchmarks/overhead_breakdown.py [--rounds 200] [--steps 10]
        [--sampler tfp|philox] [--intra-op-threads N]
"""

from __future__ import annotations

import argparse
import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from step_time import (  # noqa: E402
    UNITS,
    batched_data,
    build_mlp,
    parse_timing_arguments,
    ratio_summary,
    time_interleaved,
)

from keras_sqnn.layers import StochasticBinaryDense  # noqa: E402


class ThresholdCodesDense(StochasticBinaryDense):
    """StochasticBinaryDense whose training codes are ``theta >= 0.5``: no random draw."""

    def sample(self, theta: Any) -> Any:
        return tf.cast(tf.cast(theta, tf.float32) >= 0.5, tf.float32)


def _stochastic(layer_class: Any, mi_estimator: str | None, sampler: str) -> Any:
    def middle(h: Any, sensitive: Any) -> Any:
        gamma = 0.0 if mi_estimator is None else 0.1
        layer = layer_class(UNITS, mi_estimator=mi_estimator, gamma=gamma, sampler=sampler, seed=0)
        return layer(h, sensitive=sensitive)

    return middle


def middles(sampler: str) -> dict[str, Any]:
    """The middle layers of the breakdown, the baseline first."""

    def sigmoid(h: Any, s: Any) -> Any:
        return keras.layers.Dense(UNITS, activation="sigmoid")(h)

    return {
        "baseline": sigmoid,
        "1. baseline again (control)": sigmoid,
        "2. stochastic layer, no MI": _stochastic(StochasticBinaryDense, None, sampler),
        "3. BinaryBernoulli MI, codes not sampled": _stochastic(
            ThresholdCodesDense, "bernoulli", sampler
        ),
        "4. (a) BinaryBernoulli MI, sampled codes": _stochastic(
            StochasticBinaryDense, "bernoulli", sampler
        ),
        "5. (b) joint MI, sampled codes": _stochastic(StochasticBinaryDense, "joint", sampler),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sampler", choices=("tfp", "philox"), default="tfp")
    args = parse_timing_arguments(parser)
    data = batched_data()
    print(f"sampler: {args.sampler}; intra-op threads: {args.intra_op_threads or 'default'}")
    for jit in (False, True):
        models = {name: build_mlp(middle, jit) for name, middle in middles(args.sampler).items()}
        times = time_interleaved(models, data, args.rounds, args.steps)
        print(
            f"jit_compile={jit}: sigmoid Dense (baseline) "
            f"{np.median(times['baseline']) * 1e3:.3f} ms/step, "
            f"{args.rounds} rounds x {args.steps} steps"
        )
        for name in list(models)[1:]:
            print(f"  {name:<45} ratio {ratio_summary(times, name)}")


if __name__ == "__main__":
    main()
