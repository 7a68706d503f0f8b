"""The GPU/TPU code path, as far as a CPU machine can check it.

* No dynamic shapes: the whole training step (forward, MI, gradients, optimizer update)
  compiles with XLA (``jit_compile=True``) to HLO whose shapes are all static.
* TPUStrategy-compatible: nothing in a step lives in Python; the randomness advances in the
  seed generator's state variable inside the compiled step, so one trace serves every step.
* Mixed bfloat16 (the TPU policy): the step compiles with bfloat16 compute and the MI stays
  float32.

What TPUStrategy itself would add (a TPU, its all-reduce inside XLA) cannot run here; see
docs/SCALING.md.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.layers import StochasticBinaryConv2D, StochasticBinaryDense

# XLA prints a dynamic (bounded) dimension as "<=N", e.g. f32[<=64,5].
DYNAMIC_DIMENSION = re.compile(r"\[[^\]]*<=")


def _hlo(function, *args) -> str:
    return function.experimental_get_compiler_ir(*args)(stage="hlo")


def test_the_dynamic_shape_check_can_tell():
    # tf.boolean_mask has a data-dependent output shape: its HLO shows a dynamic dimension.
    masked = tf.function(lambda v: tf.boolean_mask(v, v > 0), jit_compile=True)
    assert DYNAMIC_DIMENSION.search(_hlo(masked, tf.constant([1.0, -1.0, 2.0])))
    static = tf.function(lambda v: tf.where(v > 0, v, 0.0), jit_compile=True)
    assert not DYNAMIC_DIMENSION.search(_hlo(static, tf.constant([1.0, -1.0, 2.0])))


def _model(factory, input_shape):
    keras.utils.set_random_seed(0)
    x_in = keras.Input(input_shape, name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = factory()(x_in, sensitive=s_in)
    out = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(keras.layers.Flatten()(t))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    model.optimizer.build(model.trainable_variables)
    return model


def _batch(input_shape, n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, *input_shape)).astype("float32")
    s = rng.integers(0, 3, n).astype("int32")
    y = rng.integers(0, 2, n).astype("float32")
    return {"features": tf.constant(x), "sensitive": tf.constant(s)}, tf.constant(y)


LAYERS = [
    pytest.param(
        lambda: StochasticBinaryDense(
            6, mi_estimator="bernoulli", gamma=0.5, num_groups=3, seed=1, name="sbd"
        ),
        (5,),
        id="dense-bernoulli",
    ),
    pytest.param(
        lambda: StochasticBinaryDense(
            4, mi_estimator="joint", gamma=0.5, num_groups=3, seed=1, name="sbd"
        ),
        (5,),
        id="dense-joint-exact",
    ),
    pytest.param(
        # 4 x 4 x 2 = 32 binary units: the sampled joint estimator.
        lambda: StochasticBinaryConv2D(
            2, 3, mi_estimator="joint", gamma=0.5, num_groups=3, seed=1, name="sbd"
        ),
        (6, 6, 1),
        id="conv2d-joint-sampled",
    ),
]


# dense-bernoulli is compiled by the mixed-bfloat16 test below.
@pytest.mark.parametrize(("factory", "input_shape"), LAYERS[1:])
def test_the_training_step_compiles_to_static_shapes(factory, input_shape):
    model = _model(factory, input_shape)
    batch = _batch(input_shape)
    step = tf.function(model.train_step, jit_compile=True)
    # Lowering raises if an op has no XLA kernel; then no dimension may be dynamic.
    hlo = _hlo(step, batch)
    assert not DYNAMIC_DIMENSION.search(hlo)
    # (Compiled steps run in the bfloat16 test below and in
    # tests/test_distribute_and_compile.py::test_xla_gives_the_same_losses.)


def test_the_randomness_of_a_step_lives_in_a_variable_not_in_python():
    # Under TPUStrategy (or any tf.function) a step is traced once and replayed: Python-side
    # state (a counter, a NumPy generator) would freeze at its traced value. Here one trace,
    # run three times, draws three different samples, advances the seed generator's state
    # variable each time, and gives the same MI (which depends on theta only).
    layer = StochasticBinaryDense(64, mi_estimator="bernoulli", gamma=1.0, seed=0)
    x = tf.constant(np.random.default_rng(0).normal(size=(32, 5)).astype("float32"))
    s = tf.constant(np.arange(32) % 2, tf.int32)
    layer.build(x.shape)

    @tf.function(jit_compile=True)
    def step(x, s):
        codes = layer(x, sensitive=s, training=True)
        return codes, layer.losses[0]

    outputs = [step(x, s) for _ in range(3)]
    states = [layer.seed_generator.state.numpy().copy()]
    step(x, s)
    states.append(layer.seed_generator.state.numpy().copy())
    assert step.experimental_get_tracing_count() == 1
    codes = [c.numpy() for c, _ in outputs]
    assert not np.array_equal(codes[0], codes[1]) and not np.array_equal(codes[1], codes[2])
    assert not np.array_equal(states[0], states[1])
    assert float(outputs[0][1]) == float(outputs[1][1]) == float(outputs[2][1]) > 0


def test_mixed_bfloat16_step_compiles_in_bfloat16_with_a_float32_mi():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _model(LAYERS[0].values[0], (5,))
        layer = model.get_layer("sbd")
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
        batch = _batch((5,))
        step = tf.function(model.train_step, jit_compile=True)
        hlo = _hlo(step, batch)
        assert "bf16[" in hlo and not DYNAMIC_DIMENSION.search(hlo)
        logs = step(batch)
        assert np.isfinite(float(logs["loss"])) and np.isfinite(float(logs["sbd_mi"]))
        codes = layer(batch[0]["features"], sensitive=batch[0]["sensitive"], training=True)
        assert codes.dtype == "bfloat16" and layer.losses[0].dtype == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
