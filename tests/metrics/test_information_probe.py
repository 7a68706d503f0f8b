"""Tests of the information probe: per-layer I(T;S), I(T;Y) and H(T) from repeated samples."""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy as scipy_entropy

from keras_sqnn import information
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.layers import StochasticBinaryDense, stochastic_layers
from keras_sqnn.metrics import (
    REPORT_COLUMNS,
    information_estimates,
    information_report,
    layer_probabilities,
    mixture_mutual_information,
    plugin_entropy,
    plugin_mutual_information,
    sample_codes,
)
from keras_sqnn.models import SensitiveSequential
from tests.reference import counting_mi_bits, joint_mi_bits, per_unit_mi_bits

MI_COLUMNS = ["mi_ts_counting", "mi_ts_mixture", "sum_unit_mi_ts"]
# sigmoid(+-50) is 1.0 and ~2e-22 in float32: the "copy" layers below are deterministic
# copies of S up to a probability of 2e-22 per unit and sample.
COPY_WEIGHT = 50.0


def unbalanced_groups(n, seed=0, p=0.3):
    return (np.random.default_rng(seed).random(n) < p).astype(np.int64)


def plugin_entropy_bits(labels):
    """Independent reference: scipy's entropy of the label counts."""
    return float(scipy_entropy(np.unique(labels, return_counts=True)[1], base=2))


def one_layer_model(units, input_dim, *, kernel, bias, name="t"):
    layer = StochasticBinaryDense(
        units,
        kernel_initializer=keras.initializers.Constant(kernel),
        bias_initializer=keras.initializers.Constant(bias),
        name=name,
        seed=0,
    )
    return SensitiveSequential([keras.Input((input_dim,)), layer])


def chi_square_tolerance(num_codes, num_labels, num_rows):
    """Upper end of the plug-in MI of independent T and L, in bits.

    Under independence, 2 N ln 2 * (plug-in MI) is approximately chi-square with
    d = (|T| - 1)(|L| - 1) degrees of freedom (the G-test): mean d (the plug-in bias
    d / (2 N ln 2)) and standard deviation sqrt(2 d). We allow the mean plus 6 standard
    deviations.
    """
    dof = (num_codes - 1) * (num_labels - 1)
    return (dof + 6 * math.sqrt(2 * dof)) / (2 * num_rows * math.log(2))


# --- the pure estimators ------------------------------------------------------------------


def test_plugin_estimators_match_the_tf_counting_estimators_and_a_dictionary_count():
    rng = np.random.default_rng(1)
    codes = (rng.random((300, 3)) < [0.2, 0.5, 0.7]).astype(np.float32)
    s = rng.integers(0, 3, 300)
    codes[:, 0] = np.where(s == 2, 1.0, codes[:, 0])  # some dependence on S
    expected = counting_mi_bits(codes, s)
    assert expected > 0.05
    assert plugin_mutual_information(codes, s) == pytest.approx(expected, abs=1e-12)
    # The (B, B) TF estimator computes in float32.
    tf_value = float(information.counting_mutual_information(codes, s, 3))
    assert plugin_mutual_information(codes, s) == pytest.approx(tf_value, abs=1e-5)

    _, counts = np.unique(codes, axis=0, return_counts=True)
    assert plugin_entropy(codes) == pytest.approx(scipy_entropy(counts, base=2), abs=1e-12)
    assert plugin_entropy(codes) == pytest.approx(
        float(information.counting_entropy(codes)), abs=1e-5
    )


def test_plugin_estimators_take_wide_codes_and_many_rows():
    # 70 units (more than one 64-bit word) and 200k rows: beyond the (B, B) estimator.
    rng = np.random.default_rng(2)
    base = (rng.random((4, 70)) < 0.5).astype(np.int8)
    labels = rng.integers(0, 4, 200_000)
    codes = base[labels]  # T is a one-to-one function of L
    assert plugin_entropy(codes) == pytest.approx(plugin_entropy_bits(labels), abs=1e-9)
    assert plugin_mutual_information(codes, labels) == pytest.approx(
        plugin_entropy_bits(labels), abs=1e-9
    )


def test_sample_codes_are_sample_major_and_follow_theta():
    theta = np.array([[0.0, 1.0], [1.0, 0.0], [0.25, 0.75]], np.float32)
    codes = sample_codes(theta, 4000, seed=0)
    assert codes.shape == (12_000, 2) and codes.dtype == bool
    rows = codes.reshape(4000, 3, 2)
    np.testing.assert_array_equal(rows[:, 0], np.tile([False, True], (4000, 1)))
    np.testing.assert_array_equal(rows[:, 1], np.tile([True, False], (4000, 1)))
    # Binomial(4000, p) means: standard error sqrt(p(1-p)/4000) <= 0.0079; 5 of them.
    np.testing.assert_allclose(rows[:, 2].mean(axis=0), [0.25, 0.75], atol=0.04)
    np.testing.assert_array_equal(sample_codes(theta, 3, seed=5), sample_codes(theta, 3, seed=5))


def theta_with_dependence(n, units, seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, units)) + 1.5 * (2 * s[:, None] - 1) * rng.normal(size=units)
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32), s


def test_exact_mixture_matches_the_enumeration_reference_in_chunks(monkeypatch):
    theta, s = theta_with_dependence(200, 4, seed=3)
    expected = joint_mi_bits(theta, s, 2)
    assert expected > 0.1
    assert mixture_mutual_information(theta, s) == pytest.approx(expected, abs=1e-5)
    # 64 probabilities per chunk: 4 examples per chunk, 50 chunks summed.
    monkeypatch.setattr(information_estimates, "_EXACT_CHUNK_ELEMENTS", 64)
    assert mixture_mutual_information(theta, s) == pytest.approx(expected, abs=1e-5)


def test_sampled_mixture_is_unbiased_for_the_exact_value_and_chunking_changes_nothing():
    theta, s = theta_with_dependence(300, 4, seed=4)
    expected = joint_mi_bits(theta, s, 2)
    codes = sample_codes(theta, 50, seed=0)
    estimate = mixture_mutual_information(theta, s, codes, max_exact_units=0)
    same_in_small_chunks = mixture_mutual_information(
        theta, s, codes, max_exact_units=0, chunk_size=97
    )
    assert same_in_small_chunks == pytest.approx(estimate, abs=1e-6)
    # The estimate is the mean of 15000 independent terms (the codes are drawn independently
    # given theta); tolerance 5 standard errors of that mean.
    terms = information.sampled_joint_terms(codes.astype(np.float32), np.tile(s, 50), theta, s, 2)
    standard_error = float(np.std(terms)) / math.sqrt(codes.shape[0])
    assert abs(estimate - expected) < 5 * standard_error
    assert 5 * standard_error < 0.05  # the check is informative


def test_mixture_needs_codes_above_max_exact_units():
    theta, s = theta_with_dependence(10, 3, seed=0)
    with pytest.raises(ValueError, match="Expected `codes`.*max_exact_units=2"):
        mixture_mutual_information(theta, s, max_exact_units=2)
    with pytest.raises(ValueError, match=r"n_samples \* n, units"):
        mixture_mutual_information(theta, s, np.zeros((15, 3)), max_exact_units=2)
    with pytest.raises(ValueError, match="probabilities in"):
        mixture_mutual_information(theta + 1.0, s)


# --- information_report on models --------------------------------------------------------


@pytest.mark.parametrize("units", [3, 16], ids=["exact", "sampled"])
def test_a_layer_ignoring_its_input_carries_no_information(units):
    n, n_samples = 1000, 5
    s = unbalanced_groups(n, seed=1)
    x = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    x[:, 0] += s  # the input depends on S, the layer ignores its input
    model = one_layer_model(units, 2, kernel=0.0, bias=0.3)
    report = information_report(model, x, y=s, sensitive_features=s, n_samples=n_samples, seed=0)
    assert list(report.columns) == list(REPORT_COLUMNS)
    row = report.iloc[0]
    assert row["mixture_method"] == ("exact" if units <= 12 else "sampled")
    assert (row["units"], row["n"], row["n_samples"]) == (units, n, n_samples)
    # theta is the same for every example: p(t | s) = p(t) exactly, so the mixture and
    # per-unit estimates are 0 up to float32 rounding.
    for column in ["mi_ts_mixture", "sum_unit_mi_ts", "mi_ty_mixture"]:
        assert abs(row[column]) < 1e-4, column
    assert row["mi_ty_counting"] == pytest.approx(row["mi_ts_counting"])
    num_rows = n * n_samples
    if units == 3:
        # The codes are i.i.d. and independent of S: the plug-in estimate is its bias only.
        assert 0 <= row["mi_ts_counting"] < chi_square_tolerance(2**units, 2, num_rows)
        # Each unit is Bernoulli(sigmoid(0.3)): H(T) = 3 h(sigmoid(0.3)); the plug-in
        # entropy of 8 codes from 5000 samples is biased by about -7 / (2 N ln 2) = -1e-3.
        p = 1.0 / (1.0 + math.exp(-0.3))
        h = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        assert row["entropy_t"] == pytest.approx(3 * h, abs=0.01)
    else:
        # 2**16 possible codes from 5000 samples: most codes are seen once, and the plug-in
        # estimate is far from 0 (its known bias); the mixture estimate above is not.
        assert row["entropy_t"] > 0.9 * math.log2(num_rows)
        assert row["mi_ts_counting"] > 0.1
    assert row["entropy_s"] == pytest.approx(plugin_entropy_bits(s), abs=1e-12)


@pytest.mark.parametrize("units", [1, 3, 16], ids=["1-unit", "3-units", "16-units"])
def test_a_layer_copying_s_carries_h_s(units):
    n = 500
    s = unbalanced_groups(n, seed=2)
    x = (2.0 * s - 1.0)[:, None].astype(np.float32)
    model = one_layer_model(units, 1, kernel=COPY_WEIGHT, bias=0.0)
    report = information_report(model, x, y=s, sensitive_features=s, n_samples=3)
    row = report.iloc[0]
    h_s = plugin_entropy_bits(s)
    assert 0.8 < h_s < 0.95  # unbalanced S: not 1 bit
    for column in ["mi_ts_counting", "mi_ts_mixture", "mi_ty_counting", "mi_ty_mixture"]:
        assert row[column] == pytest.approx(h_s, abs=1e-5), column
    assert row["entropy_t"] == pytest.approx(h_s, abs=1e-9)
    assert row["entropy_s"] == row["entropy_y"] == pytest.approx(h_s, abs=1e-12)
    # Every unit copies S: the per-unit sum counts the same bit `units` times.
    assert row["sum_unit_mi_ts"] == pytest.approx(units * h_s, abs=1e-4)


def test_mixture_column_equals_the_exact_estimator_for_a_small_layer():
    rng = np.random.default_rng(5)
    n = 300
    s = rng.integers(0, 3, n)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    x[:, 0] += 2 * s
    x[:, 1] += 2 * y
    kernel = rng.normal(size=(4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    layer = StochasticBinaryDense(3, num_groups=3, name="t")
    model = SensitiveSequential([keras.Input((4,)), layer])
    model.build((None, 4))
    layer.set_weights([kernel, bias])
    theta = 1.0 / (1.0 + np.exp(-(x @ kernel + bias)))
    np.testing.assert_allclose(layer_probabilities(model, x, "t", batch_size=64), theta, atol=1e-6)

    row = information_report(model, x, y, sensitive_features=s, n_samples=2).iloc[0]
    assert row["mi_ts_mixture"] == pytest.approx(
        float(information.exact_joint_mutual_information(theta, s, 3)), abs=1e-5
    )
    assert row["mi_ts_mixture"] == pytest.approx(joint_mi_bits(theta, s, 3), abs=1e-5)
    assert row["mi_ty_mixture"] == pytest.approx(joint_mi_bits(theta, y, 2), abs=1e-5)
    assert row["sum_unit_mi_ts"] == pytest.approx(per_unit_mi_bits(theta, s, 3).sum(), abs=1e-5)
    assert row["mi_ts_mixture"] > 0.05


def test_report_on_a_built_sqnn_classifier_lists_its_stochastic_layers_in_order():
    rng = np.random.default_rng(6)
    n = 200
    s = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    hybrid = build_sqnn_classifier(5, SQNNConfig(n_hidden=2, hidden_size=4), seed=0)
    report = information_report(hybrid, x, y, sensitive_features=s, n_samples=2)
    assert report["layer"].tolist() == ["representation"]

    # Layers before the probed one run at inference: a ReLU Dense here.
    dense = hybrid.stack[0]
    kernel, bias = dense.get_weights()
    t_kernel, t_bias = hybrid.get_layer("representation").get_weights()
    hidden = np.maximum(x @ kernel + bias, 0.0)
    theta = 1.0 / (1.0 + np.exp(-(hidden @ t_kernel + t_bias)))
    np.testing.assert_allclose(
        layer_probabilities(hybrid, {"features": x, "sensitive": s}, "representation"),
        theta,
        atol=1e-5,
    )
    assert report.loc[0, "mi_ts_mixture"] == pytest.approx(joint_mi_bits(theta, s, 2), abs=1e-5)

    binary = build_sqnn_classifier(
        5, SQNNConfig(n_hidden=3, hidden_size=4, hybrid=False, stochastic_position=1), seed=0
    )
    names = [layer.name for layer in stochastic_layers(binary)]
    assert len(names) == 3 and names[1] == "representation"
    report = information_report(binary, x, y, sensitive_features=s, n_samples=2)
    assert report["layer"].tolist() == names
    assert report[MI_COLUMNS].notna().all().all()


def test_report_on_a_functional_model_with_a_sensitive_input():
    rng = np.random.default_rng(7)
    n = 150
    s = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    features = keras.Input((3,), name="features")
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    hidden = keras.layers.Dense(4, activation="tanh", name="hidden")(features)
    codes = StochasticBinaryDense(2, mi_estimator="bernoulli", gamma=0.1, seed=1, name="t")(
        hidden, sensitive=sensitive
    )
    output = keras.layers.Dense(1, activation="sigmoid")(codes)
    model = keras.Model({"features": features, "sensitive": sensitive}, output)

    kernel, bias = model.get_layer("hidden").get_weights()
    t_kernel, t_bias = model.get_layer("t").get_weights()
    theta = 1.0 / (1.0 + np.exp(-(np.tanh(x @ kernel + bias) @ t_kernel + t_bias)))
    # The features alone are enough: S is added for the model's second input.
    report = information_report(model, x, sensitive_features=s, n_samples=2)
    same = information_report(
        model, {"features": x, "sensitive": s}, sensitive_features=s, n_samples=2
    )
    pd.testing.assert_frame_equal(report, same)
    assert report["layer"].tolist() == ["t"]
    assert report.loc[0, "mi_ts_mixture"] == pytest.approx(joint_mi_bits(theta, s, 2), abs=1e-5)
    assert report[["mi_ty_counting", "mi_ty_mixture", "entropy_y"]].isna().all().all()


def test_report_on_a_keras_sequential_whose_first_layer_is_stochastic():
    x = np.random.default_rng(8).normal(size=(50, 2)).astype(np.float32)
    s = np.arange(50) % 2
    layer = StochasticBinaryDense(2, name="t")
    model = keras.Sequential([keras.Input((2,)), layer])
    kernel, bias = layer.get_weights()
    theta = 1.0 / (1.0 + np.exp(-(x @ kernel + bias)))
    np.testing.assert_allclose(layer_probabilities(model, x, layer), theta, atol=1e-6)
    assert information_report(model, x, sensitive_features=s).loc[0, "layer"] == "t"


def test_layers_argument_selects_layers():
    binary = build_sqnn_classifier(
        3, SQNNConfig(n_hidden=2, hidden_size=2, hybrid=False, stochastic_position=1), seed=0
    )
    x = np.zeros((20, 3), np.float32)
    s = np.arange(20) % 2
    report = information_report(
        binary, x, sensitive_features=s, layers=["representation"], n_samples=1
    )
    assert report["layer"].tolist() == ["representation"]


# --- errors -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    return one_layer_model(2, 2, kernel=1.0, bias=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, r"`n_samples` to be an integer >= 1. Received: n_samples=0"),
        ({"n_samples": True}, r"Received: n_samples=True"),
        ({"n_samples": 2.0}, r"Received: n_samples=2.0"),
        ({"batch_size": 0}, r"Received: batch_size=0"),
        ({"chunk_size": -1}, r"Received: chunk_size=-1"),
        ({"max_exact_units": -1}, r"Received: max_exact_units=-1"),
        ({"s": np.arange(9) % 2}, r"len\(x\)=10, len\(sensitive_features\)=9"),
        ({"y": np.arange(11) % 2}, r"len\(y\)=11"),
        (
            {"s": np.full(10, 0.5)},
            r"`sensitive_features` to hold integer labels. Received: sensitive_features with 10 ",
        ),
        ({"y": np.array(["a", "b"] * 5)}, r"`y` to hold integer labels.*dtype=<U1"),
        ({"y": np.full(10, np.nan)}, r"`y` to hold integer labels"),
        ({"x": np.full((10, 2), np.nan)}, r"`x` to be finite.*20 non-finite"),
        ({"layers": ["nope"]}, r"Expected `layer`.*\['t'\]. Received: layer='nope'"),
    ],
)
def test_report_rejects_bad_arguments(small_model, kwargs, match):
    arguments = {"x": np.zeros((10, 2), np.float32), "s": np.arange(10) % 2, "y": None}
    arguments.update(kwargs)
    x, s, y = arguments.pop("x"), arguments.pop("s"), arguments.pop("y")
    with pytest.raises(ValueError, match=match):
        information_report(small_model, x, y, sensitive_features=s, **arguments)


def test_integer_valued_float_labels_are_accepted(small_model):
    x = np.zeros((10, 2), np.float32)
    s = np.arange(10) % 2
    assert information_report(
        small_model, x, sensitive_features=s.astype(float), n_samples=1
    ).equals(information_report(small_model, x, sensitive_features=s, n_samples=1))


def test_report_rejects_models_without_or_with_nested_stochastic_layers():
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="at least one stochastic binary layer"):
        information_report(plain, np.zeros((4, 2)), sensitive_features=np.arange(4) % 2)

    inner = keras.Sequential([keras.Input((2,)), StochasticBinaryDense(2)], name="inner")
    inputs = keras.Input((2,))
    outer = keras.Model(inputs, keras.layers.Dense(1)(inner(inputs)))
    with pytest.raises(ValueError, match="nested model 'inner'"):
        information_report(outer, np.zeros((4, 2)), sensitive_features=np.arange(4) % 2)


# --- argument order: (model, x, y, s) as everywhere in the package -------------------------


def test_y_comes_before_s_and_the_former_order_fails_loudly():
    n = 400
    s = unbalanced_groups(n, seed=3)
    y = np.random.default_rng(4).integers(0, 2, n)  # independent of S
    x = (2.0 * s - 1.0)[:, None].astype(np.float32)
    model = one_layer_model(1, 1, kernel=COPY_WEIGHT, bias=0.0)  # T copies S
    row = information_report(model, x, y, sensitive_features=s, n_samples=2).iloc[0]
    assert row["mi_ts_mixture"] == pytest.approx(plugin_entropy_bits(s), abs=1e-5)
    assert row["entropy_y"] == pytest.approx(plugin_entropy_bits(y), abs=1e-12)
    # I(T; Y) = I(S; Y): the plug-in MI of two independent labels, far below H(S).
    assert row["mi_ty_mixture"] < 0.05
    # S is keyword-only: the former positional order (model, x, s, y) cannot swap silently.
    with pytest.raises(TypeError, match="positional argument"):
        information_report(model, x, s, y)
    with pytest.raises(TypeError, match="as `sensitive_features=`.*sensitive_features=None"):
        information_report(model, x, s)


def functional_model_with_sensitive_input():
    features = keras.Input((3,), name="features")
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    codes = StochasticBinaryDense(2, mi_estimator="bernoulli", gamma=0.1, seed=1, name="t")(
        features, sensitive=sensitive
    )
    return keras.Model([features, sensitive], keras.layers.Dense(1, activation="sigmoid")(codes))


def test_sensitive_ids_fed_to_a_model_are_checked_on_the_host():
    x = np.zeros((6, 3), np.float32)
    s = np.array([0, 1, 2, 0, 1, 2])  # the layer has num_groups=2
    model = functional_model_with_sensitive_input()
    with pytest.raises(
        ValueError,
        match=r"`sensitive_features` values in \[0, 2\).*Received: sensitive_features values \[2\]",
    ):
        information_report(model, x, sensitive_features=s)
    # A list-input model gets [features, S] in its own order.
    report = information_report(model, x, sensitive_features=s % 2, n_samples=1)
    assert report["layer"].tolist() == ["t"]


def test_s_must_group_the_examples_as_the_sensitive_input_in_x():
    x = np.zeros((6, 3), np.float32)
    s = np.array([0, 1, 0, 1, 0, 1])
    model = one_layer_model(2, 3, kernel=1.0, bias=0.0)
    # y (binary) in the place of s: the copy of S in x disagrees.
    y = np.array([0, 0, 1, 1, 0, 0])
    with pytest.raises(
        ValueError, match=r"`sensitive_features` to group the examples as x\['sensitive'\]"
    ):
        information_report(model, {"features": x, "sensitive": s}, s, sensitive_features=y)
    # The same groups under other labels are fine.
    report = information_report(
        model, {"features": x, "sensitive": s}, sensitive_features=1 - s, n_samples=1
    )
    assert report["n"].tolist() == [6]


# --- S as `sensitive_features=`; the keyword `s=` is deprecated ------------------------------


def test_keyword_s_still_works_with_a_deprecation_warning(small_model):
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    s, y = np.arange(10) % 2, np.arange(10) // 5
    expected = information_report(small_model, x, y, sensitive_features=s, n_samples=2)
    with pytest.warns(
        DeprecationWarning,
        match=r"`sensitive_features=`: `information_report\(model, x, y, sensitive_features=s\)`",
    ) as record:
        legacy = information_report(small_model, x, y, s=s, n_samples=2)
    pd.testing.assert_frame_equal(legacy, expected)
    # The warning points at the caller's line.
    assert all(w.filename == __file__ for w in record if "sensitive_features=" in str(w.message))


def test_s_given_twice_or_not_at_all_is_a_type_error(small_model):
    x, s = np.zeros((10, 2), np.float32), np.arange(10) % 2
    with pytest.raises(TypeError, match="both sensitive_features and s"):
        information_report(small_model, x, s=s, sensitive_features=s)
    with pytest.raises(TypeError, match=r"`sensitive_features=`.*sensitive_features=None"):
        information_report(small_model, x)
