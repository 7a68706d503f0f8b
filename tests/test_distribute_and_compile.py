"""MirroredStrategy (2 logical CPUs), XLA and mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.layers import StochasticBinaryConv2D, StochasticBinaryDense


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 3, n).astype("int32")
    x = (rng.normal(size=(n, 5)) + s[:, None]).astype("float32")
    return x, s


def _mi_only_model(estimator, units):
    # The MI of "bernoulli" and exact "joint" depends on theta only, not on the sampled codes,
    # so one SGD step is deterministic and comparable across devices.
    keras.utils.set_random_seed(3)
    x_in = keras.Input((5,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    layer = StochasticBinaryDense(
        units, mi_estimator=estimator, gamma=1.0, num_groups=3, seed=0, name="sbd"
    )
    t = layer(keras.layers.Dense(8, activation="tanh")(x_in), sensitive=s_in)
    model = keras.Model({"features": x_in, "sensitive": s_in}, t)
    model.compile(keras.optimizers.SGD(1.0), loss=None)
    return model


@pytest.fixture(scope="module")
def strategy():
    # One strategy per process: two MirroredStrategy objects reuse collective instance keys,
    # and TensorFlow then rejects the second one's all-reduce of a different shape.
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.mark.parametrize(("estimator", "units"), [("bernoulli", 6), ("joint", 4)])
def test_mirrored_strategy_gives_the_global_batch_mi_and_gradient(estimator, units, strategy):
    x, s = _data()
    single = _mi_only_model(estimator, units)
    initial = single.get_weights()
    single_history = single.fit({"features": x, "sensitive": s}, batch_size=64, verbose=0)
    with strategy.scope():
        mirrored = _mi_only_model(estimator, units)
        mirrored.set_weights(initial)
    mirrored_history = mirrored.fit({"features": x, "sensitive": s}, batch_size=64, verbose=0)
    # The MI term (gamma = 1, the whole loss) is that of the global batch, and after one SGD
    # step (lr = 1) the weights are equal, i.e. so are the gradients, up to float32
    # reduction-order error. (Keras' own "loss" log entry of an add_loss-only model is
    # aggregated differently under MirroredStrategy; the MI metric is the term itself.)
    # float32 sums over 2**units codes and 64 examples, reduced in another order: ~1e-5.
    assert mirrored_history.history["sbd_mi"][0] == pytest.approx(
        single_history.history["sbd_mi"][0], rel=1e-4
    )
    for a, b in zip(single.get_weights(), mirrored.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # The MI of each replica's half batch differs from the global one: the test can tell.
    half = _mi_only_model(estimator, units)
    half.set_weights(initial)
    half({"features": x[:32], "sensitive": s[:32]}, training=True)
    assert float(half.losses[0]) != pytest.approx(single_history.history["sbd_mi"][0], rel=1e-3)


def _conditional_mi_only_model(estimator, units):
    keras.utils.set_random_seed(3)
    x_in = keras.Input((5,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    y_in = keras.Input((), dtype="int32", name="labels")
    layer = StochasticBinaryDense(
        units,
        mi_estimator=estimator,
        gamma=1.0,
        num_groups=3,
        condition_on="labels",
        seed=0,
        name="sbd",
    )
    hidden = keras.layers.Dense(8, activation="tanh")(x_in)
    t = layer(hidden, sensitive=s_in, labels=y_in)
    model = keras.Model({"features": x_in, "sensitive": s_in, "labels": y_in}, t)
    model.compile(keras.optimizers.SGD(1.0), loss=None)
    return model


@pytest.mark.parametrize(("estimator", "units"), [("bernoulli", 6), ("joint", 4)])
def test_mirrored_strategy_gives_the_global_batch_conditional_mi(estimator, units, strategy):
    x, s = _data()
    y = (x[:, 1] > 0).astype("int32")
    inputs = {"features": x, "sensitive": s, "labels": y}
    single = _conditional_mi_only_model(estimator, units)
    initial = single.get_weights()
    single_history = single.fit(inputs, batch_size=64, verbose=0)
    with strategy.scope():
        mirrored = _conditional_mi_only_model(estimator, units)
        mirrored.set_weights(initial)
    mirrored_history = mirrored.fit(inputs, batch_size=64, verbose=0)
    # Both terms of I(T; (S, Y)) - I(T; Y) are global-batch statistics: as above, 1e-4.
    assert mirrored_history.history["sbd_mi"][0] == pytest.approx(
        single_history.history["sbd_mi"][0], rel=1e-4
    )
    for a, b in zip(single.get_weights(), mirrored.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_sampled_joint_mi_and_gradient_equal_single_device(strategy):
    # The sampled joint estimator under MirroredStrategy: the reference batch is all-gathered
    # and the totals all-reduced around its closed-form gradient. With the same codes, each
    # replica's loss (scaled by 1 / replicas, as Keras does) and its gradient with respect to
    # its own half of theta equal the single-device ones.
    from keras_sqnn.estimators import JointMutualInformation

    rng = np.random.default_rng(5)
    theta = rng.uniform(0.05, 0.95, size=(64, 6)).astype("float32")
    s = rng.integers(0, 3, 64).astype("int32")
    codes = (rng.uniform(size=theta.shape) < theta).astype("float32")
    estimator = JointMutualInformation(max_exact_units=0)
    replicas = strategy.num_replicas_in_sync

    def value_and_gradient(theta, codes, s, scale):
        with tf.GradientTape() as tape:
            tape.watch(theta)
            value = estimator(theta, codes, s, 3)
            loss = value * scale
        return value, tape.gradient(loss, theta)

    single_value, single_gradient = value_and_gradient(tf.constant(theta), codes, s, 1.0)
    half = len(theta) // replicas

    def replica_inputs(context):
        rows = slice(
            half * context.replica_id_in_sync_group, half * (1 + context.replica_id_in_sync_group)
        )
        return theta[rows], codes[rows], s[rows]

    inputs = strategy.experimental_distribute_values_from_function(replica_inputs)
    values, gradients = strategy.run(
        tf.function(lambda args: value_and_gradient(*args, 1.0 / replicas)), args=(inputs,)
    )
    for value in strategy.experimental_local_results(values):
        # float32 sums of 64 log-ratios in another order: 1e-5.
        assert float(value) == pytest.approx(float(single_value), abs=1e-5)
    gathered = np.concatenate([g.numpy() for g in strategy.experimental_local_results(gradients)])
    np.testing.assert_allclose(gathered, single_gradient.numpy(), atol=1e-5)


def test_replicas_draw_different_noise(strategy):
    with strategy.scope():
        layer = StochasticBinaryDense(16, seed=0, kernel_initializer="zeros")
        layer.build((None, 2))
    samples = strategy.run(lambda: layer(tf.zeros((32, 2)), training=True))
    first, second = (v.numpy() for v in strategy.experimental_local_results(samples))
    assert not np.array_equal(first, second)


def _classifier(layer_factory, jit_compile, input_shape, **layer_arguments):
    keras.utils.set_random_seed(0)
    x_in = keras.Input(input_shape, name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = layer_factory(**layer_arguments)(x_in, sensitive=s_in)
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(t))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile("adam", "binary_crossentropy", jit_compile=jit_compile)
    return model


LAYER_FACTORIES = [
    pytest.param(
        lambda **kw: StochasticBinaryDense(
            6, mi_estimator="bernoulli", gamma=0.5, num_groups=3, seed=1, **kw
        ),
        (5,),
        id="dense-bernoulli",
    ),
    pytest.param(
        lambda **kw: StochasticBinaryDense(
            20, mi_estimator="joint", gamma=0.5, num_groups=3, seed=1, **kw
        ),
        (5,),
        id="dense-joint-sampled",
    ),
    pytest.param(
        lambda **kw: StochasticBinaryConv2D(
            2, 3, mi_estimator="bernoulli", gamma=0.5, num_groups=3, seed=1, **kw
        ),
        (6, 6, 1),
        id="conv2d",
    ),
]


@pytest.mark.parametrize(("factory", "input_shape"), LAYER_FACTORIES)
def test_xla_gives_the_same_losses_with_the_philox_sampler(factory, input_shape):
    rng = np.random.default_rng(0)
    n = 64
    x = rng.normal(size=(n, *input_shape)).astype("float32")
    s = rng.integers(0, 3, n).astype("int32")
    y = rng.integers(0, 2, n).astype("float32")
    losses = []
    for jit in (False, True):
        model = _classifier(factory, jit, input_shape, sampler="philox")
        history = model.fit(
            {"features": x, "sensitive": s}, y, batch_size=16, epochs=2, shuffle=False, verbose=0
        )
        losses.append(history.history["loss"])
    # The Philox sampler draws the same bits under XLA; only float rounding may differ.
    # (The default tfp sampler draws other bits under XLA: tests/layers checks its law there.)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("estimator", ["bernoulli", "joint"])
def test_mixed_precision_gives_finite_losses_and_float32_mi(policy, estimator):
    keras.config.set_dtype_policy(policy)
    try:
        x, s = _data()
        y = (x[:, 0] > 0).astype("float32")
        x_in = keras.Input((5,), name="features")
        s_in = keras.Input((), dtype="int32", name="sensitive")
        layer = StochasticBinaryDense(6, mi_estimator=estimator, gamma=0.5, num_groups=3, seed=0)
        t = layer(keras.layers.Dense(8, activation="relu")(x_in), sensitive=s_in)
        out = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(t)
        model = keras.Model({"features": x_in, "sensitive": s_in}, out)
        model.compile("adam", "binary_crossentropy")
        history = model.fit({"features": x, "sensitive": s}, y, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        model({"features": x, "sensitive": s}, training=True)
        assert model.losses[0].dtype == "float32"
        assert layer.compute_dtype != "float32"
    finally:
        keras.config.set_dtype_policy("float32")
