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
from keras_sqnn.models import SensitiveSequential

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
        model, x, y, sensitive_features=s, representation_layer="rep", n_estimators=N_ESTIMATORS
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
    probe = representation_probe(
        representation, y=y, sensitive_features=s, n_estimators=N_ESTIMATORS
    )
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
        sensitive_features=s,
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
    report = evaluate_fairness(model, x, y, sensitive_features=s)
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
    found = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    named = evaluate_fairness(
        model,
        x,
        y,
        sensitive_features=s,
        representation_layer="last_stochastic",
        n_estimators=N_ESTIMATORS,
    )
    assert found == named
    assert found["adrg"] is not None


def test_sequential_model():
    x, y, s = synthetic_data(2)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, name="rep"), keras.layers.Dense(1, "sigmoid")]
    )
    report = evaluate_fairness(
        model, x, y, sensitive_features=s, representation_layer="rep", n_estimators=5
    )
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
    report = evaluate_fairness(
        model, inputs, y, sensitive_features=s, representation_layer="rep", n_estimators=5
    )
    scores = model.predict(inputs, verbose=0).ravel()
    assert report["gpa"] == pytest.approx(gpa(y, scores, sensitive_features=s))


def test_logits_are_rejected_with_a_hint():
    x, y, s = synthetic_data(4)
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(inputs))
    with pytest.raises(ValueError, match="sigmoid"):
        evaluate_fairness(model, x, y, sensitive_features=s)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y": np.zeros(N - 1, dtype=int)}, r"len\(y\)"),
        ({"y": np.full(N, 2)}, "`y`"),
        ({"sensitive_features": np.zeros(N)}, "`sensitive_features`"),
        ({"representation_layer": "missing"}, "representation_layer"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_input_raises_naming_the_argument(model, data, change, match):
    x, y, s = data
    arguments = {"y": y, "sensitive_features": s, "n_estimators": 5} | change
    with pytest.raises(ValueError, match=match):
        evaluate_fairness(model, x, **arguments)


def test_two_column_outputs_are_rejected(data):
    x, y, s = data
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(ValueError, match="model"):
        evaluate_fairness(model, x, y, sensitive_features=s)


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
    report = evaluate_fairness(model, x, y, sensitive_features=s)
    assert report["adrg"] is None and isinstance(report["gpa"], float)
    with pytest.raises(ValueError, match="functional or Sequential"):
        evaluate_fairness(model, x, y, sensitive_features=s, representation_layer="rep")


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
    report = evaluate_fairness(model, inputs, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    probe = representation_probe(
        representation, y=y, sensitive_features=s, n_estimators=N_ESTIMATORS
    )
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


# --- every model kind of the package (issue 15) -------------------------------------------

MODEL_KINDS = ["functional", "sequential", "sensitive_sequential", "functional_with_sensitive"]


def classifier_of_kind(kind):
    """Dense(6, relu) -> StochasticBinaryDense(4, threshold inference) -> sigmoid, as `kind`."""
    keras.utils.set_random_seed(0)
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")
    # A regularized layer where S reaches it; "threshold" inference: a deterministic code.
    regularized = kind in ("sensitive_sequential", "functional_with_sensitive")
    stochastic = StochasticBinaryDense(
        4,
        inference="threshold",
        mi_estimator="bernoulli" if regularized else None,
        gamma=0.1 if regularized else 0.0,
        seed=1,
        name="t",
    )
    head = keras.layers.Dense(1, activation="sigmoid", name="head")
    if kind == "sequential":
        return keras.Sequential([keras.Input((5,)), hidden, stochastic, head])
    if kind == "sensitive_sequential":
        return SensitiveSequential([keras.Input((5,)), hidden, stochastic, head])
    features = keras.Input((5,), name="features")
    if kind == "functional":
        return keras.Model(features, head(stochastic(hidden(features))))
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    codes = stochastic(hidden(features), sensitive=sensitive)
    return keras.Model({"features": features, "sensitive": sensitive}, head(codes))


def numpy_forward(model, x):
    """Independent NumPy forward pass: (scores, threshold codes of layer "t")."""
    kernel, bias = model.get_layer("hidden").get_weights()
    t_kernel, t_bias = model.get_layer("t").get_weights()
    h_kernel, h_bias = model.get_layer("head").get_weights()
    hidden = np.maximum(x @ kernel + bias, 0.0)
    codes = (1.0 / (1.0 + np.exp(-(hidden @ t_kernel + t_bias))) >= 0.5).astype("float32")
    return 1.0 / (1.0 + np.exp(-(codes @ h_kernel + h_bias)))[:, 0], codes


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_model_kind_is_evaluated_from_its_features(kind):
    x, y, s = synthetic_data(6)
    model = classifier_of_kind(kind)
    if kind in ("sensitive_sequential", "functional_with_sensitive"):
        model.compile("adam", "binary_crossentropy")
        model.fit({"features": x, "sensitive": s}, y, epochs=1, batch_size=100, verbose=0)
    report = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)

    scores, codes = numpy_forward(model, x)
    assert report["auc"] == pytest.approx(auc(y, scores), abs=1e-6)
    assert report["gpa"] == pytest.approx(gpa(y, scores, sensitive_features=s), abs=1e-6)
    assert report["audc"] == pytest.approx(
        area_under_discrimination_curve(y, scores, sensitive_features=s), abs=1e-6
    )
    # The representation found and probed is layer "t"'s code.
    probe = representation_probe(codes, y=y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    for key, value in probe.as_dict().items():
        assert report[key] == pytest.approx(value), key


@pytest.mark.parametrize("kind", ["sensitive_sequential", "functional_with_sensitive"])
def test_features_a_tuple_with_s_and_a_dict_give_the_same_report(kind):
    x, y, s = synthetic_data(7)
    model = classifier_of_kind(kind)
    expected = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    forms = [{"features": x, "sensitive": s}]
    if kind == "sensitive_sequential":
        forms.append((x, s))
    for inputs in forms:
        assert (
            evaluate_fairness(model, inputs, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
            == expected
        )


def test_swapped_y_and_s_are_caught_by_the_sensitive_attribute_in_x():
    x, y, s = synthetic_data(8)
    model = classifier_of_kind("sensitive_sequential")
    inputs = {"features": x, "sensitive": s}
    # Both are binary: only the copy of S inside `x` tells that `sensitive_features` received y.
    with pytest.raises(
        ValueError, match=r"`sensitive_features` to group the examples as x\['sensitive'\]"
    ):
        evaluate_fairness(model, inputs, s, sensitive_features=y)
    with pytest.raises(ValueError, match=r"as x\[1\]"):
        evaluate_fairness(model, (x, s), s, sensitive_features=y)


def test_labels_that_are_not_binary_are_rejected_naming_y(model, data):
    x, y, _ = data
    groups = np.arange(N) % 3  # e.g. a 3-group S passed where y goes
    with pytest.raises(ValueError, match=r"`y` to hold binary labels.*Received: y with values"):
        evaluate_fairness(model, x, groups, sensitive_features=y)


def test_sensitive_ids_fed_to_the_model_are_checked_against_num_groups():
    x, y, s = synthetic_data(9)
    model = classifier_of_kind("functional_with_sensitive")
    with pytest.raises(
        ValueError,
        match=r"`sensitive_features` values in \[0, 2\).*Received: sensitive_features values \[2\]",
    ):
        evaluate_fairness(model, x, y, sensitive_features=s + 1)
    with pytest.raises(TypeError, match=r"keras_sqnn.encode_groups"):
        evaluate_fairness(model, x, y, sensitive_features=np.where(s == 1, "a", "b"))


# --- S as `sensitive_features=`; the positional `s` is deprecated ---------------------------


def deprecation_warnings(record):
    """The warnings of `record` about the spelling of S (others may come from dependencies)."""
    return [w for w in record if "sensitive_features=" in str(w.message)]


def test_positional_s_still_works_with_a_deprecation_warning(model, data):
    x, y, s = data
    arguments = {"representation_layer": "rep", "n_estimators": 5}
    expected = evaluate_fairness(model, x, y, sensitive_features=s, **arguments)
    with pytest.warns(
        DeprecationWarning,
        match=r"`sensitive_features=`: `evaluate_fairness\(model, x, y, sensitive_features=s\)`",
    ) as record:
        legacy = evaluate_fairness(model, x, y, s, **arguments)
    assert legacy == expected
    (warning,) = deprecation_warnings(record)
    assert "removed in 0.2" in str(warning.message)
    assert warning.filename == __file__  # it points at the caller's line
    with pytest.warns(DeprecationWarning, match="sensitive_features="):
        assert evaluate_fairness(model, x, y, s=s, **arguments) == expected


def test_s_given_twice_or_not_at_all_is_a_type_error(model, data):
    x, y, s = data
    with pytest.raises(TypeError, match=r"S once.*Received: both sensitive_features and s"):
        evaluate_fairness(model, x, y, s, sensitive_features=s)
    with pytest.raises(TypeError, match=r"`sensitive_features=`.*sensitive_features=None"):
        evaluate_fairness(model, x, y)
