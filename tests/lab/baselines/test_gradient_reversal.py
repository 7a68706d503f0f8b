import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.lab.baselines import GradientReversal, reverse_gradient


@pytest.mark.parametrize("scale", [0.0, 0.3, 2.0])
def test_identity_forward_and_scaled_reversed_gradient(scale):
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)), tf.float32)
    weights = tf.constant(np.random.default_rng(1).normal(size=(4, 3)), tf.float32)
    layer = GradientReversal(scale)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        loss = tf.reduce_sum(weights * out**2)
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    # Analytic: d/dx sum(w x^2) = 2 w x, reversed and scaled.
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), -scale * 2 * weights * x, rtol=1e-6)


def test_function_matches_layer_and_keeps_dtype():
    x = tf.constant([[1.0, -2.0]], tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(reverse_gradient(x, 0.5))
    gradient = tape.gradient(y, x)
    assert gradient.dtype == tf.float16
    np.testing.assert_array_equal(gradient.numpy(), [[-0.5, -0.5]])


def test_config_round_trip_and_registration():
    layer = GradientReversal(0.25, name="grl")
    clone = GradientReversal.from_config(layer.get_config())
    assert clone.scale == 0.25 and clone.name == "grl"
    assert keras.saving.get_registered_name(GradientReversal) == "keras_sqnn>GradientReversal"
    assert layer.compute_output_shape((None, 7)) == (None, 7)


@pytest.mark.parametrize("scale", [-1.0, float("nan"), True, "1"])
def test_rejects_bad_scale(scale):
    with pytest.raises(ValueError, match="Expected `scale`"):
        GradientReversal(scale)
