"""`with_inference`: a copy of a model that serves the sampled or the thresholded code."""

import keras
import numpy as np
import pytest

from keras_sqnn.export import with_inference
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.metrics import layer_probabilities
from keras_sqnn.models import SensitiveSequential


def functional(skip: bool = False) -> keras.Model:
    x = keras.Input((4,), name="features")
    s = keras.Input((), dtype="int32", name="sensitive")
    h = keras.layers.Dense(6, activation="relu")(x)
    code = StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, name="code")
    t = code(h, sensitive=s)
    head_input = keras.layers.Concatenate()([t, h]) if skip else t
    out = keras.layers.Dense(1, activation="sigmoid", name="head")(head_input)
    return keras.Model({"features": x, "sensitive": s}, out)


def sequential() -> SensitiveSequential:
    model = SensitiveSequential()
    model.add(keras.Input((4,)))
    model.add(keras.layers.Dense(6, activation="relu"))
    model.add(StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, name="code"))
    model.add(keras.layers.Dense(1, activation="sigmoid", name="head"))
    return model


@pytest.mark.parametrize("build", [functional, sequential])
def test_threshold_copy_scores_the_thresholded_code(build):
    keras.utils.set_random_seed(0)
    model = build()
    x = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    inputs = {"features": x, "sensitive": np.zeros(50, "int32")} if build is functional else x
    served = with_inference(model, "threshold")
    theta = layer_probabilities(model, inputs, "code")
    head = model.get_layer("head")
    expected = keras.ops.convert_to_numpy(head((theta >= 0.5).astype("float32")))
    np.testing.assert_allclose(served.predict(inputs, verbose=0), expected, atol=1e-6)
    # The original keeps its mode and its scores (theta).
    assert model.get_layer("code").inference == "expectation"
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0),
        keras.ops.convert_to_numpy(head(theta)),
        atol=1e-6,
    )
    sampled = with_inference(model, "sample")
    assert np.any(sampled.predict(inputs, verbose=0) != sampled.predict(inputs, verbose=0))


def test_saving_the_copy_records_the_mode(tmp_path):
    model = sequential()
    with_inference(model, "sample").save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.get_layer("code").inference == "sample"


def test_a_head_that_reads_more_than_the_code_is_refused():
    with pytest.raises(ValueError, match="depend only on the code of layer 'code'"):
        with_inference(functional(skip=True), "sample")


def test_bad_mode_and_no_layer_get_clear_errors():
    with pytest.raises(ValueError, match="inference='mean'"):
        with_inference(sequential(), "mean")
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="with none"):
        with_inference(plain, "sample")
