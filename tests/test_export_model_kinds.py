"""Plain `model.export` works for every kind of model that holds a regularized layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential


def _layer():
    return StochasticBinaryDense(4, mi_estimator="bernoulli", gamma=0.3, seed=1, name="sbd")


def _functional():
    x = keras.Input((5,), name="features")
    s = keras.Input((), dtype="int32", name="sensitive")
    out = keras.layers.Dense(1, activation="sigmoid")(_layer()(x, sensitive=s))
    return keras.Model({"features": x, "sensitive": s}, out)


def _sequential():
    return SensitiveSequential(
        [keras.Input((5,)), _layer(), keras.layers.Dense(1, activation="sigmoid")]
    )


@pytest.mark.parametrize("build", [_functional, _sequential], ids=["functional", "sequential"])
def test_model_export_of_a_trained_model_serves_its_predictions(build, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype("float32")
    s = (np.arange(32) % 2).astype("int32")
    model = build()
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, np.zeros(32), verbose=0)  # MI tracker updated
    path = str(tmp_path / "serving")
    model.export(path)
    served = tf.saved_model.load(path)
    inputs = {"features": x, "sensitive": s} if build is _functional else x
    expected = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(served.serve(inputs).numpy(), expected, rtol=1e-6, atol=1e-7)
