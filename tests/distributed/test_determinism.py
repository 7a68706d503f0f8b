"""Same seed, same weights: ``fit`` on CPU is reproducible, in one process and across two.

Randomness in a run: the initializers (seeded), the Bernoulli samples (the layer's
``SeedGenerator``, seeded) and ``fit``'s shuffling (``keras.utils.set_random_seed``). On CPU,
TensorFlow's kernels are deterministic for a fixed thread set-up, so two runs are equal bit
for bit. On GPU this needs ``tf.config.experimental.enable_op_determinism()`` (not tested
here: no GPU; see docs/SCALING.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_sqnn.layers import StochasticBinaryDense

REPO = Path(__file__).resolve().parents[2]


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n).astype("int32")
    x = (rng.normal(size=(n, 6)) + s[:, None]).astype("float32")
    y = (x[:, 1] + 0.5 * rng.normal(size=n) > 0.5).astype("float32")
    return {"features": x, "sensitive": s}, y


def _fit(seed: int, estimator: str):
    """An SQNN (hidden ReLU layer, stochastic layer, sigmoid) fitted for 2 shuffled epochs."""
    keras.utils.set_random_seed(seed)  # fit's shuffling
    x_in = keras.Input((6,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    h = keras.layers.Dense(
        8, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
    )(x_in)
    t = StochasticBinaryDense(
        6,
        mi_estimator=estimator,
        gamma=0.3,
        kernel_initializer=keras.initializers.GlorotUniform(seed + 1),
        seed=seed + 2,
        name="sbd",
    )(h, sensitive=s_in)
    out = keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(seed + 3)
    )(t)
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    return model.get_weights(), history.history


def test_the_same_seed_gives_identical_weights():
    # (The joint estimator is run in the two-process test below.)
    weights, history = _fit(0, "bernoulli")
    again, history_again = _fit(0, "bernoulli")
    assert history == history_again
    for a, b in zip(weights, again, strict=True):
        np.testing.assert_array_equal(a, b)
    # The comparison can tell: another seed (other initial weights, samples and batch order)
    # ends elsewhere.
    other, _ = _fit(1, "bernoulli")
    assert not all(np.array_equal(a, b) for a, b in zip(weights, other, strict=True))


RUN = """
import sys
import numpy as np
from tests.distributed.test_determinism import _fit
weights, history = _fit(0, "joint")
np.savez(sys.argv[1], loss=history["loss"], **{f"w{i}": w for i, w in enumerate(weights)})
"""


@pytest.mark.slow
def test_the_same_seed_gives_identical_weights_in_separate_processes(tmp_path):
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES="-1",
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    runs = []
    for index in range(2):
        out = tmp_path / f"run{index}.npz"
        child = subprocess.run(
            [sys.executable, "-c", RUN, str(out)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == 0, child.stderr[-4000:]
        runs.append(dict(np.load(out)))
    assert sorted(runs[0]) == sorted(runs[1]) and len(runs[0]) > 1
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key], err_msg=key)
    # ... and equal to this (pytest) process's run.
    weights, history = _fit(0, "joint")
    np.testing.assert_array_equal(runs[0]["loss"], history["loss"])
    for index, weight in enumerate(weights):
        np.testing.assert_array_equal(runs[0][f"w{index}"], weight)
