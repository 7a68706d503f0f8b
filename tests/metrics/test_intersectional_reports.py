"""evaluate_fairness and information_report with several sensitive attributes, S of shape (n, k)."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.metrics import (
    REPORT_COLUMNS,
    audc,
    evaluate_fairness,
    gpa,
    information_report,
    representation_probe,
    worst_group_pair,
)
from keras_sqnn.metrics.information_probe import report_columns
from keras_sqnn.models import SensitiveSequential
from tests.metrics.test_evaluate_fairness import numpy_forward

N = 360
N_ESTIMATORS = 10
RADICES = (2, 3)
METRIC_KEYS = ["auc", "accuracy", "gpa", "audc"]
PROBE_KEYS = ["adrg", "probe_accuracy", "majority_ratio", "probe_auc_s", "probe_auc_y"]


def synthetic_data(seed=0):
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.integers(0, g, N) for g in RADICES]).astype("int32")
    x = rng.normal(size=(N, 5)).astype("float32")
    x[:, 0] += s[:, 0]
    x[:, 1] += s[:, 1]
    y = (x[:, 2] + 0.5 * s[:, 0] + rng.normal(0, 0.5, N) > 0.25).astype("int32")
    return x, y, s


def joined(s):
    return np.array([f"{a}|{b}" for a, b in np.asarray(s)])


def classifier(num_groups=RADICES, *, functional=False, mi_estimator="bernoulli"):
    """Dense(6, relu) -> StochasticBinaryDense(4, threshold inference) -> sigmoid."""
    keras.utils.set_random_seed(0)
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")
    stochastic = StochasticBinaryDense(
        4,
        inference="threshold",
        mi_estimator=mi_estimator,
        gamma=0.1 if mi_estimator else 0.0,
        num_groups=num_groups,
        seed=1,
        name="t",
    )
    head = keras.layers.Dense(1, activation="sigmoid", name="head")
    if not functional:
        return SensitiveSequential([keras.Input((5,)), hidden, stochastic, head])
    features = keras.Input((5,), name="features")
    width = 1 if isinstance(num_groups, int) else len(num_groups)
    sensitive = keras.Input((width,), dtype="int32", name="sensitive")
    codes = stochastic(hidden(features), sensitive=sensitive)
    return keras.Model({"features": features, "sensitive": sensitive}, head(codes))


@pytest.fixture(scope="module")
def trained():
    x, y, s = synthetic_data()
    model = classifier()
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=1, batch_size=120, verbose=0)
    return model, x, y, s


def test_report_holds_intersection_per_attribute_and_worst_pairs(trained):
    model, x, y, s = trained
    report = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    extra = ["gpa_0", "gpa_1", "audc_0", "audc_1", "worst_gpa_pair", "worst_audc_pair"]
    assert list(report) == METRIC_KEYS + extra + PROBE_KEYS

    scores, codes = numpy_forward(model, x)
    labels = joined(s)  # the intersections, computed independently
    assert report["gpa"] == pytest.approx(gpa(y, scores, sensitive_features=labels), abs=1e-6)
    assert report["audc"] == pytest.approx(audc(y, scores, sensitive_features=labels), abs=1e-6)
    for i in range(len(RADICES)):  # each attribute alone: the one-column functions
        assert report[f"gpa_{i}"] == pytest.approx(
            gpa(y, scores, sensitive_features=s[:, i]), abs=1e-6
        )
        assert report[f"audc_{i}"] == pytest.approx(
            audc(y, scores, sensitive_features=s[:, i]), abs=1e-6
        )
    worst = worst_group_pair(y, scores, sensitive_features=labels)
    assert report["worst_gpa_pair"] == tuple(tuple(int(v) for v in g.split("|")) for g in worst)
    assert report["worst_audc_pair"] == worst_group_pair(
        y, scores, sensitive_features=s, metric="audc"
    )
    probe = representation_probe(codes, y=y, sensitive_features=labels, n_estimators=N_ESTIMATORS)
    for key, value in probe.as_dict().items():
        assert report[key] == pytest.approx(value), key


def test_a_dataframe_s_gives_the_same_report_and_as_frame_has_one_row(trained):
    model, x, y, s = trained
    expected = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    frame = pd.DataFrame({"sex": s[:, 0], "race": s[:, 1]})
    assert (
        evaluate_fairness(model, x, y, sensitive_features=frame, n_estimators=N_ESTIMATORS)
        == expected
    )
    table = evaluate_fairness(
        model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS, as_frame=True
    )
    assert table.shape == (1, len(expected))
    assert table.loc[0, "worst_gpa_pair"] == expected["worst_gpa_pair"]


def test_functional_model_gets_the_columns_of_s_as_its_sensitive_input():
    x, y, s = synthetic_data(1)
    model = classifier(functional=True)
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=1, batch_size=120, verbose=0)
    report = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    scores, _ = numpy_forward(model, x)
    assert report["gpa_1"] == pytest.approx(gpa(y, scores, sensitive_features=s[:, 1]), abs=1e-6)
    with pytest.raises(
        ValueError,
        match=r"`sensitive_features` with 2 column\(s\).*"
        r"Received: sensitive_features with 1 column",
    ):
        evaluate_fairness(model, x, y, sensitive_features=s[:, 0])


@pytest.mark.parametrize("column", [0, 1])
def test_ids_out_of_range_in_any_column_are_rejected(trained, column):
    model, x, y, s = trained
    bad = s.copy()
    bad[5, column] = RADICES[column]
    with pytest.raises(
        ValueError,
        match=rf"`sensitive_features` column {column} values in \[0, {RADICES[column]}\).*"
        rf"Received: sensitive_features\[:, {column}\] values \[{RADICES[column]}\]",
    ):
        evaluate_fairness(model, x, y, sensitive_features=bad)
    with pytest.raises(ValueError, match=rf"column {column} values"):
        information_report(model, x, y, sensitive_features=bad, n_samples=1)


def test_column_count_must_match_the_layers_declaration(trained):
    model, x, y, s = trained
    with pytest.raises(
        ValueError, match=r"`sensitive_features` with 2 column\(s\).*num_groups=\(2, 3\)"
    ):
        evaluate_fairness(model, x, y, sensitive_features=s[:, 1])
    with pytest.raises(ValueError, match=r"`sensitive_features` with 2 column\(s\)"):
        information_report(model, x, y, sensitive_features=np.column_stack([s, s[:, :1]]))
    one_attribute = classifier(num_groups=2)
    with pytest.raises(
        ValueError,
        match=r"`sensitive_features` with 1 column\(s\).*Received: sensitive_features with 2",
    ):
        evaluate_fairness(one_attribute, x, y, sensitive_features=s)


def test_a_model_without_regularizer_is_evaluated_on_any_columns():
    x, y, s = synthetic_data(2)
    model = classifier(mi_estimator=None)
    report = evaluate_fairness(model, x, y, sensitive_features=s, n_estimators=N_ESTIMATORS)
    scores, _ = numpy_forward(model, x)
    assert report["gpa_0"] == pytest.approx(gpa(y, scores, sensitive_features=s[:, 0]), abs=1e-6)


def test_an_attribute_with_one_group_names_its_column():
    x, y, s = synthetic_data(3)
    model = classifier(mi_estimator=None)
    constant = s.copy()
    constant[:, 0] = 1
    with pytest.raises(
        ValueError,
        match=r"Attribute 0 of `sensitive_features` \(column sensitive_features\[:, 0\]\)",
    ):
        evaluate_fairness(model, x, y, sensitive_features=constant, n_estimators=N_ESTIMATORS)


def copy_model():
    """One deterministic unit per column of x (sigmoid(+-50)): the code copies the signs."""
    layer = StochasticBinaryDense(
        2,
        kernel_initializer=keras.initializers.Constant(np.eye(2) * 50.0),
        name="copy",
        seed=0,
    )
    return SensitiveSequential([keras.Input((2,)), layer])


def test_information_report_per_attribute_columns_equal_one_column_reports():
    rng = np.random.default_rng(4)
    s = np.column_stack([rng.integers(0, 2, 300), rng.integers(0, 3, 300)])
    x = np.column_stack([2.0 * s[:, 0] - 1.0, rng.normal(size=300)]).astype("float32")
    y = rng.integers(0, 2, 300)
    model = copy_model()
    report = information_report(model, x, y, sensitive_features=s, n_samples=3, seed=1)
    assert list(report.columns) == report_columns(2)
    assert list(report.columns[: len(REPORT_COLUMNS)]) == list(REPORT_COLUMNS)
    ids = np.unique(joined(s), return_inverse=True)[1]
    intersection = information_report(model, x, y, sensitive_features=ids, n_samples=3, seed=1)
    for column in REPORT_COLUMNS[1:]:
        assert report.loc[0, column] == pytest.approx(intersection.loc[0, column]), column
    for i in range(2):
        alone = information_report(model, x, y, sensitive_features=s[:, i], n_samples=3, seed=1)
        for name in ("mi_ts_counting", "mi_ts_mixture", "sum_unit_mi_ts", "entropy_s"):
            assert report.loc[0, f"{name}_{i}"] == pytest.approx(alone.loc[0, name]), (name, i)
    # Unit 0 copies attribute 0 exactly: the code carries all of H(S_0) about it.
    assert report.loc[0, "mi_ts_mixture_0"] == pytest.approx(report.loc[0, "entropy_s_0"], abs=1e-3)
    assert report.loc[0, "entropy_s_0"] > 0.9


def test_information_report_skips_intersections_without_examples():
    rng = np.random.default_rng(5)
    s = np.column_stack([rng.integers(0, 2, 200), rng.integers(0, 2, 200)])
    s[(s[:, 0] == 1) & (s[:, 1] == 1), 1] = 0  # no example of (1, 1)
    x = np.column_stack([2.0 * s[:, 0] - 1.0, 2.0 * s[:, 1] - 1.0]).astype("float32")
    report = information_report(copy_model(), x, sensitive_features=s, n_samples=2)
    assert report.notna().loc[0, ["mi_ts_counting", "mi_ts_mixture", "sum_unit_mi_ts"]].all()
    counts = np.unique(joined(s), return_counts=True)[1] / len(s)
    assert report.loc[0, "entropy_s"] == pytest.approx(-(counts * np.log2(counts)).sum())
    # The code is S itself: it carries all of H(S) about the three observed intersections.
    assert report.loc[0, "mi_ts_mixture"] == pytest.approx(report.loc[0, "entropy_s"], abs=1e-3)
