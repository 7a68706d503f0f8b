"""`export_serving` on functional models with dict or list inputs, S and labels inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.export import export_serving
from keras_sqnn.layers import StochasticBinaryDense

N = 24


def _inputs():
    x = keras.Input((5,), name="features")
    s = keras.Input((), dtype="int32", name="sensitive")
    return x, s


def _head(codes):
    return keras.layers.Dense(1, activation="sigmoid", name="head")(codes)


def dict_inputs():
    x, s = _inputs()
    codes = StochasticBinaryDense(4, mi_estimator="bernoulli", gamma=0.2, seed=1)(x, sensitive=s)
    return keras.Model({"features": x, "sensitive": s}, _head(codes))


def list_inputs():
    x, s = _inputs()
    hidden = keras.layers.Dense(6, activation="relu")(x)
    codes = StochasticBinaryDense(4, mi_estimator="joint", gamma=0.2, seed=1)(hidden, sensitive=s)
    return keras.Model([s, x], _head(codes))  # the features second


def labels_input():
    x, s = _inputs()
    y = keras.Input((), dtype="int32", name="labels")
    codes = StochasticBinaryDense(
        4, mi_estimator="bernoulli", gamma=0.2, condition_on="labels", seed=1
    )(x, sensitive=s, labels=y)
    return keras.Model({"features": x, "sensitive": s, "labels": y}, _head(codes))


def _full_inputs(model, x, drop_others=False):
    """The model's inputs: ``x`` as the features, zeros (or None) for the others."""
    others = None if drop_others else np.zeros(len(x), "int32")
    if isinstance(model.input, dict):
        return {name: x if name == "features" else others for name in model.input}
    return [x if tensor.name == "features" else others for tensor in model.input]


@pytest.mark.parametrize("build", [dict_inputs, list_inputs, labels_input])
def test_serving_takes_the_features_only_and_leaves_the_model_as_it_was(build, tmp_path):
    x = np.random.default_rng(0).normal(size=(N, 5)).astype("float32")
    model = build()
    # A lambda in the compile config cannot be deserialized in safe mode: the serving
    # graph must not need the compile config.
    model.compile("adam", lambda y_true, y_pred: keras.ops.mean((y_true - y_pred) ** 2))
    expected = model.predict(_full_inputs(model, x), verbose=0)

    export_serving(model, str(tmp_path / "serving"))

    served = tf.saved_model.load(str(tmp_path / "serving"))
    (spec,) = served.serve.concrete_functions[0].structured_input_signature[0]
    assert spec.shape.as_list() == [None, 5]
    np.testing.assert_allclose(served.serve(tf.constant(x)).numpy(), expected, atol=1e-6)
    # The model keeps its inputs (none optional), its compile state and its scores.
    with pytest.raises(ValueError, match="is not optional, but None was passed"):
        model(_full_inputs(model, x, drop_others=True), training=False)
    assert model.compiled
    np.testing.assert_allclose(model.predict(_full_inputs(model, x), verbose=0), expected)


def test_a_features_name_not_among_the_inputs_is_an_error(tmp_path):
    with pytest.raises(
        ValueError, match=r"one of the model's inputs \['features', 'sensitive'\]. Received"
    ):
        export_serving(list_inputs(), str(tmp_path / "serving"), features="x")
