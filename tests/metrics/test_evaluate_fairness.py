"""Tests of `evaluate_fairness` and the representation extraction on small Keras models."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.metrics import (
    area_under_discrimination_curve,
    auc,
    evaluate_fairness,
    extract_representation,
    find_representation_layer,
    gpa,
    representation_probe,
)

N = 400
N_ESTIMATORS = 20
METRIC_KEYS = ["auc", "accuracy", "gpa", "audc"]
PROBE_KEYS = ["adrg", "probe_accuracy", "majority_ratio", "probe_auc_s", "probe_auc_y"]


def synthetic_data(seed=0):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, N)
    x = rng.normal(size=(N, 5)).astype("float32")
    x[:, 0] += s  # S leaks into the features
    y = (x[:, 1] + 0.5 * s + rng.normal(0, 0.5, N) > 0.25).astype(int)
    return x, y, s


class StochasticBinaryLookalike(keras.layers.Dense):
    """Named like the package's stochastic layers, but not one: never the representation."""


@pytest.fixture(scope="module")
def data():
    return synthetic_data()


@pytest.fixture(scope="module")
def model(data):
    x, y, _ = data
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    rep = keras.layers.Dense(8, name="rep")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(rep)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    return model


def test_values_equal_the_metric_functions_on_the_predictions(model, data):
    x, y, s = data
    report = evaluate_fairness(
        model, x, y, s, representation_layer="rep", n_estimators=N_ESTIMATORS
    )
    assert list(report) == METRIC_KEYS + PROBE_KEYS
    assert all(isinstance(value, float) for value in report.values())

    scores = model.predict(x, verbose=0).ravel()
    assert report["auc"] == pytest.approx(auc(y, scores))
    assert report["accuracy"] == pytest.approx(np.mean((scores >= 0.5) == y))
    assert report["gpa"] == pytest.approx(gpa(y, scores, sensitive_features=s))
    assert report["audc"] == pytest.approx(
        area_under_discrimination_curve(y, scores, sensitive_features=s)
    )
    # The "rep" layer is linear: its outputs are x @ kernel + bias.
    kernel, bias = model.get_layer("rep").get_weights()
    representation = extract_representation(model, x, "rep")
    np.testing.assert_allclose(representation, x @ kernel + bias, rtol=1e-5, atol=1e-5)
    probe = representation_probe(representation, s, y, n_estimators=N_ESTIMATORS)
    for key, value in probe.as_dict().items():
        assert report[key] == pytest.approx(value)
    # S is in the features, so the probe recovers it better than chance.
    assert report["probe_auc_s"] > 0.6


def test_layer_object_threshold_and_as_frame(model, data):
    x, y, s = data
    frame = evaluate_fairness(
        model,
        x,
        y,
        s,
        representation_layer=model.get_layer("rep"),
        n_estimators=N_ESTIMATORS,
        threshold=0.7,
        as_frame=True,
    )
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape == (1, len(METRIC_KEYS + PROBE_KEYS))
    scores = model.predict(x, verbose=0).ravel()
    assert frame.loc[0, "accuracy"] == pytest.approx(np.mean((scores >= 0.7) == y))


def test_probe_is_skipped_without_a_representation_layer(model, data):
    x, y, s = data
    assert find_representation_layer(model) is None
    report = evaluate_fairness(model, x, y, s)
    assert all(report[key] is None for key in PROBE_KEYS)
    assert all(isinstance(report[key], float) for key in METRIC_KEYS)


def test_stochastic_layer_is_found_and_probed():
    x, y, s = synthetic_data(1)
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(6, name="first")(inputs)
    # "threshold" inference is deterministic: both evaluations probe the same codes.
    first = StochasticBinaryDense(4, inference="threshold", name="first_stochastic")(hidden)
    last = StochasticBinaryDense(3, inference="threshold", name="last_stochastic")(first)
    lookalike = StochasticBinaryLookalike(3, activation="sigmoid", name="lookalike")(last)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(lookalike))
    assert find_representation_layer(model) is model.get_layer("last_stochastic")
    found = evaluate_fairness(model, x, y, s, n_estimators=N_ESTIMATORS)
    named = evaluate_fairness(
        model, x, y, s, representation_layer="last_stochastic", n_estimators=N_ESTIMATORS
    )
    assert found == named
    assert found["adrg"] is not None


def test_sequential_model():
    x, y, s = synthetic_data(2)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, name="rep"), keras.layers.Dense(1, "sigmoid")]
    )
    report = evaluate_fairness(model, x, y, s, representation_layer="rep", n_estimators=5)
    kernel, bias = model.get_layer("rep").get_weights()
    np.testing.assert_allclose(
        extract_representation(model, x, "rep"), x @ kernel + bias, rtol=1e-5, atol=1e-5
    )
    assert report["adrg"] is not None


def test_model_with_a_sensitive_input_after_the_representation():
    x, y, s = synthetic_data(3)
    x_in = keras.Input((5,), name="x")
    s_in = keras.Input((1,), name="s")
    rep = keras.layers.Dense(4, name="rep")(x_in)
    joined = keras.layers.Concatenate()([rep, s_in])
    model = keras.Model({"x": x_in, "s": s_in}, keras.layers.Dense(1, "sigmoid")(joined))
    inputs = {"x": x, "s": s[:, None].astype("float32")}
    kernel, bias = model.get_layer("rep").get_weights()
    np.testing.assert_allclose(
        extract_representation(model, inputs, "rep"), x @ kernel + bias, rtol=1e-5, atol=1e-5
    )
    report = evaluate_fairness(model, inputs, y, s, representation_layer="rep", n_estimators=5)
    scores = model.predict(inputs, verbose=0).ravel()
    assert report["gpa"] == pytest.approx(gpa(y, scores, sensitive_features=s))


def test_logits_are_rejected_with_a_hint():
    x, y, s = synthetic_data(4)
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(inputs))
    with pytest.raises(ValueError, match="sigmoid"):
        evaluate_fairness(model, x, y, s)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y": np.zeros(N - 1, dtype=int)}, r"len\(y\)"),
        ({"y": np.full(N, 2)}, "`y`"),
        ({"s": np.zeros(N)}, "`s`"),
        ({"representation_layer": "missing"}, "representation_layer"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_input_raises_naming_the_argument(model, data, change, match):
    x, y, s = data
    arguments = {"y": y, "s": s, "n_estimators": 5} | change
    with pytest.raises(ValueError, match=match):
        evaluate_fairness(model, x, **arguments)


def test_two_column_outputs_are_rejected(data):
    x, y, s = data
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(ValueError, match="model"):
        evaluate_fairness(model, x, y, s)


class SubclassedClassifier(keras.Model):
    def __init__(self):
        super().__init__()
        self.rep = keras.layers.Dense(4, name="rep")
        self.head = keras.layers.Dense(1, activation="sigmoid")

    def call(self, inputs):
        return self.head(self.rep(inputs))


def test_subclassed_model_metrics_work_but_extraction_explains_itself(data):
    x, y, s = data
    model = SubclassedClassifier()
    report = evaluate_fairness(model, x, y, s)
    assert report["adrg"] is None and isinstance(report["gpa"], float)
    with pytest.raises(ValueError, match="functional or Sequential"):
        evaluate_fairness(model, x, y, s, representation_layer="rep")


def test_the_package_stochastic_layer_is_found_with_its_sensitive_input():
    x, y, s = synthetic_data(5)
    features = keras.Input((5,), name="features")
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    hidden = keras.layers.Dense(8, activation="relu")(features)
    stochastic = StochasticBinaryDense(6, seed=1, name="t")
    t = stochastic(hidden, sensitive=sensitive)
    outputs = keras.layers.Dense(1, activation="sigmoid")(t)
    model = keras.Model({"features": features, "sensitive": sensitive}, outputs)
    inputs = {"features": x, "sensitive": s.astype("int32")}
    assert find_representation_layer(model) is stochastic
    # The representation is a sampled code: replay the same seed state for both extractions.
    state = stochastic.seed_generator.state.numpy()
    representation = extract_representation(model, inputs, stochastic)
    assert representation.shape == (N, 6)
    stochastic.seed_generator.state.assign(state)
    report = evaluate_fairness(model, inputs, y, s, n_estimators=N_ESTIMATORS)
    probe = representation_probe(representation, s, y, n_estimators=N_ESTIMATORS)
    assert report["adrg"] == pytest.approx(probe.adrg)
    assert report["probe_auc_y"] == pytest.approx(probe.probe_auc_y)


def test_stochastic_layer_representation_is_a_sampled_binary_code():
    import keras

    from keras_sqnn.metrics import extract_representation

    inputs = keras.Input((3,))
    layer = StochasticBinaryDense(5, seed=0, name="rep")
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(layer(inputs)))
    x = np.random.default_rng(0).normal(size=(200, 3)).astype("float32")
    codes = extract_representation(model, x, "rep")
    assert set(np.unique(codes)) == {0.0, 1.0}
    theta = keras.ops.convert_to_numpy(layer.probabilities(x))
    # Samples follow theta: the mean code is within 5 binomial standard errors of mean theta.
    assert abs(codes.mean() - theta.mean()) < 5 * np.sqrt(0.25 / codes.size)
