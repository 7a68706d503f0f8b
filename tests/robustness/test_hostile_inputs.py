"""Hostile and dirty input: each case gives a clear error or a correct, finite result.

Covered: NaN/inf features; the sensitive attribute S missing, float, negative, >= num_groups,
outside int32, or of the wrong length; one group only in a batch; theta saturated at exactly
0 or 1; float16 inputs; an empty dataset or batch; the wrong rank for Conv2D. In eager calls,
inside ``fit`` (graph) and, where the behaviour differs, under XLA.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.estimators import JointMutualInformation
from keras_sqnn.layers import StochasticBinaryConv2D, StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential
from tests import reference

ESTIMATORS = [
    pytest.param("bernoulli", id="bernoulli"),
    pytest.param("joint", id="joint-exact"),
    # Forces the sampled joint estimator on a 4-unit layer.
    pytest.param(JointMutualInformation(max_exact_units=2), id="joint-sampled"),
]


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    s = (np.arange(n) % 2).astype("int32")
    x = (rng.normal(size=(n, 3)) + s[:, None]).astype("float32")
    y = (x[:, 0] > 0.5).astype("float32")
    return x, s, y


def _layer(estimator="bernoulli", **kwargs):
    return StochasticBinaryDense(4, mi_estimator=estimator, gamma=0.5, seed=0, name="sbd", **kwargs)


def _functional(estimator="bernoulli", jit_compile=False):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((3,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = _layer(estimator)(x_in, sensitive=s_in)
    out = keras.layers.Dense(1, activation="sigmoid")(t)
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", jit_compile=jit_compile)
    return model


def _sequential():
    keras.utils.set_random_seed(0)
    model = SensitiveSequential([keras.Input((3,)), _layer(), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(model, before):
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def _assert_fit_fails_before_any_weight_changes(x, s, y, match):
    model = _functional()
    before = _weights(model)
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        model.fit({"features": x, "sensitive": s}, y, batch_size=32, verbose=0)
    _assert_unchanged(model, before)


# --- NaN / inf features ------------------------------------------------------------------

NON_FINITE = [pytest.param(np.nan, id="nan"), pytest.param(np.inf, id="inf")]


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_features_fail_the_training_call(value):
    x, s, _ = _data(8)
    x[3, 1] = value
    with pytest.raises(tf.errors.InvalidArgumentError, match="Layer sbd.*not finite"):
        _layer()(x, sensitive=s, training=True)


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_features_stop_fit_before_any_weight_changes(value):
    # An inf feature gives a pre-activation of +-inf and theta of exactly 0 or 1: the forward
    # pass is finite, but the kernel's gradient x * sigmoid'(z) = inf * 0 is NaN. Training
    # must stop with an error naming the layer, not carry on with NaN weights.
    x, s, y = _data()
    x[3, 1] = value
    _assert_fit_fails_before_any_weight_changes(x, s, y, match="Layer sbd.*not finite")


@pytest.mark.parametrize("graph", [False, True])
def test_finite_inputs_that_overflow_inside_the_joint_estimator_name_the_layer(graph):
    # Pre-activations of +-1.8e38 sum to 0, so the input check passes, but one row's
    # softplus sum overflows inside the sampled joint estimator (inf - inf = NaN).
    layer = StochasticBinaryDense(
        16,
        mi_estimator=JointMutualInformation(max_exact_units=4),
        kernel_initializer="identity",
        bias_initializer="zeros",
        name="sbd",
    )
    x = np.zeros((64, 16), "float32")
    x[0, :2], x[32, :2] = 1.8e38, -1.8e38
    s = np.arange(64) % 2
    call = tf.function(lambda x: layer(x, sensitive=s, training=True)) if graph else None
    with pytest.raises(tf.errors.InvalidArgumentError, match="Layer sbd.*not finite"):
        call(x) if graph else layer(x, sensitive=s, training=True)


def test_bad_batches_under_xla_give_a_nan_loss():
    # XLA compiles runtime checks out (tf.debugging.Assert, check_numerics), so a
    # jit-compiled step cannot raise. The documented behaviour is a NaN MI, hence a NaN loss
    # in the logs of that very step (keras.callbacks.TerminateOnNaN then stops training),
    # never a finite loss that hides NaN weights or out-of-range ids dropped silently.
    x, s, y = _data()
    model = _functional(jit_compile=True)
    initial = model.get_weights()
    history = model.fit({"features": x, "sensitive": s}, y, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])  # the clean batch: the test can tell
    for name, position, value in [
        ("nan feature", (3, 1), np.nan),
        ("inf feature", (3, 1), np.inf),
        ("sensitive 5", 7, 5),
    ]:
        features, sensitive = x.copy(), s.copy()
        (features if name.endswith("feature") else sensitive)[position] = value
        model.set_weights(initial)  # same compiled step, fresh weights
        history = model.fit(
            {"features": features, "sensitive": sensitive},
            y,
            batch_size=32,
            verbose=0,
        )
        assert np.isnan(history.history["sbd_mi"][0]), name
        assert np.isnan(history.history["loss"][0]), name


@pytest.mark.parametrize("estimator", ["bernoulli", "joint"])
def test_out_of_range_ids_under_xla_give_the_mi_no_gradient(estimator):
    # Under XLA the bad batch is not stopped, so the MI term must not push the weights
    # either: no gradient from the statistics of the batch with the bad example left out.
    x, s, _ = _data(16)
    s[3] = 5
    layer = _layer(estimator)
    layer.build((None, 3))

    @tf.function(jit_compile=True)
    def mi_and_gradient(x, s):
        with tf.GradientTape() as tape:
            layer(x, sensitive=s, training=True)
            mi = layer.losses[0]
        return mi, tape.gradient(mi, layer.kernel)

    mi, gradient = mi_and_gradient(x, s)
    assert np.isnan(float(mi))
    np.testing.assert_array_equal(gradient.numpy(), 0.0)


# --- the sensitive attribute -------------------------------------------------------------


def test_missing_sensitive_is_a_clear_error_everywhere():
    x, s, y = _data()
    with pytest.raises(ValueError, match="received sensitive=None"):
        _layer()(x, training=True)
    with pytest.raises(ValueError, match="received sensitive=None"):
        _sequential().fit({"features": x}, y, verbose=0)
    with pytest.raises(ValueError, match="received sensitive=None"):
        _sequential().fit(x, y, verbose=0)
    # A functional model declares S as an input: Keras names the missing key.
    with pytest.raises(ValueError, match='Missing data for input "sensitive"'):
        _functional().fit({"features": x}, y, verbose=0)


def test_fractional_float_sensitive_is_rejected_by_the_layer():
    x, s, y = _data()
    # Whole-number floats are ids (the same MI as the integers); others are an error.
    layer = _layer()
    layer(x, sensitive=s, training=True)
    from_integers = float(layer.losses[0])
    layer(x, sensitive=s.astype("float32"), training=True)
    assert float(layer.losses[0]) == pytest.approx(from_integers)
    fractional = s.astype("float32")
    fractional[2] = 0.5
    with pytest.raises(ValueError, match=r"sensitive values \[0\.5\]"):
        _layer()(x, sensitive=fractional, training=True)
    graph = tf.function(lambda s: layer(x, sensitive=s, training=True))
    with pytest.raises(tf.errors.InvalidArgumentError, match="sensitive"):
        graph(tf.constant(fractional))
    # SensitiveSequential checks NumPy S on the host: integral floats are cast to ids
    # (tests/test_sensitive_inputs.py: fractional ones are an error).
    history = _sequential().fit({"features": x, "sensitive": s.astype("float32")}, y, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_float_sensitive_of_a_functional_model_is_cast_by_its_int_input():
    # keras.Input(dtype="int32") converts what it is fed: integral floats give exactly the
    # integer ids, so the same MI. (Non-integral floats would be truncated by Keras before the
    # layer sees them; the layer cannot tell. Feed integer ids.)
    x, s, y = _data()
    logged = []
    for sensitive in (s, s.astype("float32")):
        history = _functional().fit(
            {"features": x, "sensitive": sensitive}, y, batch_size=32, shuffle=False, verbose=0
        )
        logged.append(history.history["sbd_mi"][0])
    assert np.isfinite(logged[0]) and logged[0] > 0
    assert logged[1] == logged[0]


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        pytest.param(-1, r"\[-1\]", id="negative"),
        pytest.param(2, r"\[2\]", id="num_groups"),
        pytest.param(7, r"\[7\]", id="above"),
        # int64 ids that wrap to valid int32 ids (2**32 -> 0) must not slip through.
        pytest.param(2**32, r"\[4294967296\]", id="int64-wraps-to-0"),
        pytest.param(-(2**32) + 1, r"\[-4294967295\]", id="int64-wraps-to-1"),
    ],
)
def test_out_of_range_sensitive_is_rejected_in_eager(bad, shown):
    x, s, _ = _data(8)
    s = s.astype("int64")
    s[5] = bad
    with pytest.raises(ValueError, match=r"Expected `sensitive` values in \[0, 2\).*" + shown):
        _layer()(x, sensitive=s, training=True)


@pytest.mark.parametrize("bad", [-1, 2, 2**32], ids=["negative", "num_groups", "int64-wraps"])
def test_out_of_range_sensitive_is_rejected_in_graph(bad):
    x, s, _ = _data(8)
    s = s.astype("int64")
    s[5] = bad
    layer = _layer()
    step = tf.function(lambda x, s: layer(x, sensitive=s, training=True))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected `sensitive` values"):
        step(tf.constant(x), tf.constant(s))


def test_out_of_range_sensitive_stops_fit_before_any_weight_changes():
    x, s, y = _data()
    s[7] = 5
    _assert_fit_fails_before_any_weight_changes(x, s, y, match="sensitive")


def test_sensitive_of_the_wrong_length_or_shape():
    x, s, y = _data(8)
    with pytest.raises(ValueError, match="Received: sensitive with batch size 5"):
        _layer()(x, sensitive=s[:5], training=True)
    with pytest.raises(ValueError, match=r"Received: sensitive with shape=\(8, 2\)"):
        _layer()(x, sensitive=np.stack([s, s], axis=1), training=True)
    # Unknown batch sizes at trace time: the graph assertion compares them at run time.
    layer = _layer()
    step = tf.function(
        lambda x, s: layer(x, sensitive=s, training=True),
        input_signature=[tf.TensorSpec((None, 3)), tf.TensorSpec((None,), tf.int32)],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size"):
        step(tf.constant(x), tf.constant(s[:5]))
    # In fit, Keras itself refuses arrays of different lengths.
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        _functional().fit({"features": x, "sensitive": s[:5]}, y, verbose=0)


# --- degenerate but valid batches -------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_one_group_in_the_batch_gives_zero_mi_and_finite_gradients(estimator):
    x, _, _ = _data(16)
    layer = _layer(estimator)
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        layer(x, sensitive=np.ones(16, "int32"), training=True)
        mi = layer.losses[0]
    gradients = tape.gradient(mi, layer.trainable_variables)
    # With one group p(t | s) = p(t): every estimator gives 0 up to float32 rounding of the
    # group sums (the sampled one exactly: its conditional and marginal sums coincide).
    assert float(mi) == pytest.approx(0.0, abs=1e-6)
    for gradient in gradients:
        assert np.all(np.isfinite(gradient.numpy()))


def test_one_group_batch_inside_fit_logs_zero_mi():
    x, _, y = _data()
    history = _functional().fit(
        {"features": x, "sensitive": np.zeros(32, "int32")}, y, batch_size=32, verbose=0
    )
    assert history.history["sbd_mi"][0] == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_saturated_theta_gives_the_exact_mi_and_finite_gradients(estimator):
    # Logits of +-200 give theta exactly 1.0 or 0.0 in float32. Units 0 and 1 copy S (theta
    # is 1 for group 1, 0 for group 0), unit 2 is its complement, unit 3 is pinned at 1:
    # I(T; S) = H(S) = 1 bit for the joint estimator, and the per-unit sum is 3 bits.
    s = (np.arange(16) % 2).astype("int32")
    x = (2.0 * s - 1.0)[:, None].astype("float32")
    layer = StochasticBinaryDense(
        4,
        mi_estimator=estimator,
        gamma=1.0,
        seed=0,
        kernel_initializer=keras.initializers.Constant([[200.0, 200.0, -200.0, 0.0]]),
        bias_initializer=keras.initializers.Constant([0.0, 0.0, 0.0, 200.0]),
    )
    with tf.GradientTape() as tape:
        codes = layer(x, sensitive=s, training=True)
        mi = layer.losses[0]
    theta = layer.probabilities(x).numpy()
    assert set(np.unique(theta)) == {0.0, 1.0}
    np.testing.assert_array_equal(codes.numpy(), theta)  # Bernoulli(0 or 1) is certain
    expected = reference.per_unit_mi_bits(theta, s, 2).sum()
    if estimator != "bernoulli":
        expected = reference.joint_mi_bits(theta, s, 2)
    assert expected == pytest.approx(3.0 if estimator == "bernoulli" else 1.0)
    assert float(mi) == pytest.approx(expected, abs=1e-5)
    for gradient in tape.gradient(mi, layer.trainable_variables):
        assert np.all(np.isfinite(gradient.numpy()))


def test_float16_features_train_like_their_float32_values():
    # A float32 model fed float16 arrays: Keras casts them to the Input's float32, so the run
    # equals the one fed the same (rounded) values in float32, to the bit.
    x, s, y = _data()
    logs = []
    for features in (x.astype("float16"), x.astype("float16").astype("float32")):
        history = _functional().fit(
            {"features": features, "sensitive": s}, y, batch_size=16, shuffle=False, verbose=0
        )
        logs.append(history.history)
    assert np.all(np.isfinite(logs[0]["loss"])) and logs[0]["sbd_mi"][0] > 0
    assert logs[0] == logs[1]


@pytest.mark.parametrize("estimator", ["bernoulli", "joint"])
def test_float16_layer_computes_the_mi_in_float32(estimator):
    x, s, _ = _data(16)
    layer = StochasticBinaryDense(4, mi_estimator=estimator, gamma=1.0, seed=0, dtype="float16")
    codes = layer(x.astype("float16"), sensitive=s, training=True)
    mi = layer.losses[0]
    assert codes.dtype == "float16" and mi.dtype == "float32"
    theta = layer.probabilities(x.astype("float16")).numpy().astype("float64")
    expected = reference.per_unit_mi_bits(theta, s, 2).sum()
    if estimator == "joint":
        expected = reference.joint_mi_bits(theta, s, 2)
    # The layer takes the sigmoid of the float16 logits in float32; the reference uses the
    # float16 sigmoid, whose rounding (2**-11 relative) moves a 4-unit MI by < 1e-2 bits.
    assert float(mi) == pytest.approx(expected, abs=1e-2)
    assert np.isfinite(float(mi)) and float(mi) > 0


# --- empty data --------------------------------------------------------------------------


def test_fit_on_an_empty_dataset_warns_and_changes_nothing():
    # Keras' documented behaviour for a dataset that yields no batch: a UserWarning that
    # the input "ran out of data", an empty History, and no training step.
    x, s, y = _data()
    model = _functional()
    before = _weights(model)
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit({"features": x[:0], "sensitive": s[:0]}, y[:0], verbose=0)
    assert history.history == {}
    _assert_unchanged(model, before)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_an_empty_batch_has_zero_mi(estimator):
    # A batch of 0 rows (e.g. one replica's share of a tiny last batch) carries no
    # information about S: the MI is 0, as for a batch of one group, not NaN.
    x, s, _ = _data(4)
    layer = _layer(estimator)
    codes = layer(x[:0], sensitive=s[:0], training=True)
    assert codes.shape == (0, 4)
    assert float(layer.losses[0]) == 0.0


# --- Conv2D rank --------------------------------------------------------------------------


def test_conv2d_rejects_inputs_of_the_wrong_rank():
    layer = StochasticBinaryConv2D(2, 3, mi_estimator="bernoulli", gamma=0.1, seed=0)
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        layer(keras.Input((6, 6)), sensitive=keras.Input((), dtype="int32"))
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=2"):
        StochasticBinaryConv2D(2, 3)(np.zeros((4, 6), "float32"))
    with pytest.raises(ValueError, match="Kernel shape must have the same length as input"):
        StochasticBinaryConv2D(2, 3)(np.zeros((2, 4, 6, 6, 1), "float32"))


def test_conv2d_sensitive_must_match_the_batch():
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 1)).astype("float32")
    layer = StochasticBinaryConv2D(2, 3, mi_estimator="bernoulli", gamma=0.1, seed=0)
    with pytest.raises(ValueError, match="Received: sensitive with batch size 3"):
        layer(x, sensitive=np.array([0, 1, 0]), training=True)
    # ... and with a matching S it is finite and equals the per-position reference.
    layer(x, sensitive=np.array([0, 1, 0, 1]), training=True)
    theta = layer.probabilities(x).numpy().reshape(4, -1)
    expected = reference.per_unit_mi_bits(theta, [0, 1, 0, 1], 2).sum()
    assert float(layer.losses[0]) == pytest.approx(0.1 * expected, rel=1e-4)
