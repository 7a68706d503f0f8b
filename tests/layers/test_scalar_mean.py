"""ScalarMean: the lean running mean a stochastic layer logs its MI term with."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.layers import ScalarMean

VALUES = [0.25, 1.5, -0.75, 3.0, 0.0]


def test_matches_keras_mean_over_scalars_and_resets():
    lean, reference = ScalarMean(name="lean"), keras.metrics.Mean(name="reference")
    for value in VALUES:
        lean.update_state(value)
        reference.update_state(value)
        assert float(lean.result()) == pytest.approx(float(reference.result()), rel=1e-6)
    lean.reset_state()
    assert float(lean.result()) == 0.0  # no value yet: 0, as keras.metrics.Mean gives
    lean.update_state(2.0)
    assert float(lean.result()) == 2.0


def test_updates_inside_a_tf_function_once_per_call():
    metric = ScalarMean()
    update = tf.function(metric.update_state)
    for value in VALUES:
        update(tf.constant(value))
    np.testing.assert_allclose(metric.total_and_count.numpy(), [sum(VALUES), len(VALUES)])
    assert float(metric.result()) == pytest.approx(np.mean(VALUES), rel=1e-6)


def test_stateless_update_returns_new_variables_and_leaves_the_metric_alone():
    metric = ScalarMean()
    metric.update_state(1.0)
    (new_state,) = metric.stateless_update_state([v.numpy() for v in metric.variables], 3.0)
    np.testing.assert_allclose(np.asarray(new_state), [4.0, 2.0])
    np.testing.assert_allclose(metric.total_and_count.numpy(), [1.0, 1.0])


def test_rejects_non_scalar_values():
    with pytest.raises(ValueError, match=r"`value` to be a scalar.*shape=\(2,\)"):
        ScalarMean().update_state([1.0, 2.0])


def test_registered_and_config_round_trips():
    assert keras.saving.get_registered_name(ScalarMean) == "keras_sqnn>ScalarMean"
    restored = ScalarMean.from_config(ScalarMean(name="sbd_mi").get_config())
    assert restored.name == "sbd_mi"


def test_stateless_update_with_keras_variables_leaves_the_metric_alone():
    # Keras maps the variables themselves to their tf.Variables: the update must still be
    # recorded in the scope, not applied.
    metric = ScalarMean()
    metric.update_state(1.0)
    (new_state,) = metric.stateless_update_state(metric.variables, 3.0)
    np.testing.assert_allclose(np.asarray(new_state), [4.0, 2.0])
    np.testing.assert_allclose(metric.total_and_count.numpy(), [1.0, 1.0])


def test_updates_in_the_cross_replica_context_of_a_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        metric = ScalarMean()
        metric.update_state(2.0)  # e.g. a model called directly inside the scope
        metric.update_state(4.0)
    assert float(metric.result()) == pytest.approx(3.0)


def test_keeps_its_dtype_inside_a_mixed_precision_layer():
    # Under a mixed policy a layer's call autocasts float variables; the metric's sum must
    # stay in float32 (a bfloat16 sum of 300 values 0.1 would be off by percents).
    class Logging(keras.layers.Layer):
        def __init__(self):
            super().__init__(dtype="mixed_bfloat16")
            self.tracker = ScalarMean()

        def call(self, x):
            self.tracker.update_state(0.1)
            return x

    layer = Logging()
    for _ in range(300):
        layer(np.zeros((1, 1), "float32"))
    assert layer.tracker.total_and_count.dtype == "float32"
    np.testing.assert_allclose(layer.tracker.total_and_count.numpy(), [30.0, 300.0], rtol=1e-5)
    assert ScalarMean(dtype="float64").total_and_count.dtype == "float64"
