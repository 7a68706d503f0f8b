"""Bad inputs to the fairness metrics raise a ValueError that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

from keras_sqnn.metrics import (
    auc,
    audc,
    discrimination_curve,
    equal_tradeoff_line,
    gpa,
    pairwise_accuracy,
    tradeoff_distance,
)

Y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
SCORE = np.array([0.1, 0.9, 0.4, 0.6, 0.3, 0.8, 0.2, 0.7])
GROUPS = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])


def group_metrics():
    return [
        pytest.param(gpa, id="gpa"),
        pytest.param(audc, id="audc"),
        pytest.param(discrimination_curve, id="discrimination_curve"),
        pytest.param(
            lambda y, score, sensitive_features: pairwise_accuracy(
                y, score, sensitive_features=sensitive_features, group_pos="a", group_neg="b"
            ),
            id="pairwise_accuracy",
        ),
    ]


@pytest.mark.parametrize("metric", group_metrics())
@pytest.mark.parametrize(
    ("y", "score", "groups", "match"),
    [
        (Y[:-1], SCORE, GROUPS, "y_score"),  # mismatched lengths
        (Y, SCORE, GROUPS[:-1], "sensitive_features"),
        (Y * 2, SCORE, GROUPS, "y_true"),  # labels {0, 2}
        (np.array(["n", "p"] * 4), SCORE, GROUPS, "y_true"),
        (Y, np.where(Y == 1, np.nan, SCORE), GROUPS, "y_score"),
        (Y, np.where(Y == 1, np.inf, SCORE), GROUPS, "y_score"),
        (Y, SCORE.reshape(2, 4), GROUPS, "y_score"),  # not 1-D
        (Y, np.array(["0.1"] * 8), GROUPS, "y_score"),
        (Y, SCORE, np.array(["a"] * 4 + [None] * 4, dtype=object), "sensitive_features"),
        (Y[:0], SCORE[:0], GROUPS[:0], "y_true"),  # empty
    ],
)
def test_invalid_inputs(metric, y, score, groups, match):
    with pytest.raises(ValueError, match=match):
        metric(y, score, sensitive_features=groups)


@pytest.mark.parametrize(
    "metric",
    [pytest.param(gpa, id="gpa"), pytest.param(audc, id="audc")],
)
def test_a_single_group_is_rejected(metric):
    with pytest.raises(ValueError, match="sensitive_features"):
        metric(Y, SCORE, sensitive_features=np.full(8, "a"))


@pytest.mark.parametrize("metric", [audc, discrimination_curve])
def test_audc_requires_probabilities(metric):
    with pytest.raises(ValueError, match="y_score"):
        metric(Y, SCORE * 4 - 2, sensitive_features=GROUPS)


def test_gpa_undefined_when_no_group_pair_has_both_classes():
    y = np.array([1, 1, 0, 1, 0, 1])  # group "a" has no negatives
    with pytest.raises(ValueError, match="sensitive_features"):
        gpa(y, np.linspace(0, 1, 6), sensitive_features=np.array(["a"] * 2 + ["b"] * 4))


@pytest.mark.parametrize(
    ("group_pos", "group_neg", "match"),
    [("c", "a", "group_pos"), ("a", "c", "group_neg")],
)
def test_pairwise_accuracy_unknown_group(group_pos, group_neg, match):
    with pytest.raises(ValueError, match=match):
        pairwise_accuracy(
            Y, SCORE, sensitive_features=GROUPS, group_pos=group_pos, group_neg=group_neg
        )


def test_pairwise_accuracy_empty_pair_set():
    y = np.array([0, 0, 0, 1, 0, 1, 0, 1])  # group "a" has one positive
    pairwise_accuracy(y, SCORE, sensitive_features=GROUPS, group_pos="a", group_neg="b")
    y[3] = 0  # now none
    with pytest.raises(ValueError, match="group_pos='a' with 0 positives"):
        pairwise_accuracy(y, SCORE, sensitive_features=GROUPS, group_pos="a", group_neg="b")


def test_auc_needs_both_classes_and_finite_scores():
    with pytest.raises(ValueError, match="y_true"):
        auc(np.ones(8, dtype=int), SCORE)
    with pytest.raises(ValueError, match="y_score"):
        auc(Y, np.where(Y == 1, np.nan, SCORE))


@pytest.mark.parametrize(
    "thresholds",
    [
        [0.5, 0.2, 0.8],  # not increasing
        [0.2, 0.2, 0.8],  # repeated
        [-0.1, 0.5, 1.0],  # outside [0, 1]
        [0.0, np.nan, 1.0],
        [0.5],  # a single point has no area
        np.zeros((2, 2)),
    ],
)
def test_bad_thresholds(thresholds):
    with pytest.raises(ValueError, match="thresholds"):
        audc(Y, SCORE, sensitive_features=GROUPS, thresholds=thresholds)


def test_tradeoff_values_outside_unit_interval():
    with pytest.raises(ValueError, match="auc"):
        tradeoff_distance(1.2, 0.1)
    with pytest.raises(ValueError, match="unfairness"):
        tradeoff_distance(0.8, np.nan)
    with pytest.raises(ValueError, match="unfairness"):
        equal_tradeoff_line(0.8, -0.1)
    with pytest.raises(ValueError, match="num"):
        equal_tradeoff_line(0.8, 0.1, num=1)
