"""Tests of AUC, GPA, AUDC and the tradeoff rule against independent references."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from keras_sqnn.metrics import (
    area_under_discrimination_curve,
    auc,
    audc,
    discrimination_curve,
    equal_tradeoff_line,
    gpa,
    group_pairwise_accuracy_difference,
    pairwise_accuracy,
    tradeoff_distance,
)

# ---------------------------------------------------------------------------------------
# Brute-force references: explicit loops over pairs and groups.


def brute_pairwise_accuracy(y, score, groups, g_pos, g_neg):
    """Fraction of (positive of g_pos, negative of g_neg) pairs ranked right; ties 1/2."""
    correct, total = 0.0, 0
    for a in range(len(y)):
        if y[a] != 1 or groups[a] != g_pos:
            continue
        for b in range(len(y)):
            if y[b] != 0 or groups[b] != g_neg:
                continue
            total += 1
            if score[a] > score[b]:
                correct += 1.0
            elif score[a] == score[b]:
                correct += 0.5
    return None if total == 0 else correct / total


def brute_gpa(y, score, groups):
    """Max over group pairs of |A_{i>j} - A_{j>i}|, skipping undefined pairs."""
    gaps = []
    for i, j in combinations(sorted(set(groups)), 2):
        a_ij = brute_pairwise_accuracy(y, score, groups, i, j)
        a_ji = brute_pairwise_accuracy(y, score, groups, j, i)
        if a_ij is not None and a_ji is not None:
            gaps.append(abs(a_ij - a_ji))
    return max(gaps) if gaps else None


def random_data(seed, n, n_groups, score_decimals=1):
    """Random labels, groups and scores rounded so that many scores tie."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    groups = rng.integers(0, n_groups, n)
    score = np.round(rng.uniform(size=n) * 0.6 + 0.3 * y, score_decimals)
    return y, score, groups


# ---------------------------------------------------------------------------------------
# AUC


def test_auc_is_sklearns_roc_auc():
    y, score, _ = random_data(0, 200, 2)
    assert auc(y, score) == roc_auc_score(y, score)


def test_auc_accepts_column_vectors_and_booleans():
    y, score, _ = random_data(1, 50, 2)
    assert auc(y.astype(bool)[:, None], score[:, None]) == roc_auc_score(y, score)


# ---------------------------------------------------------------------------------------
# Pairwise accuracy and GPA


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_accuracy_matches_brute_force_with_ties(seed):
    y, score, groups = random_data(seed, 60, 3)
    assert len(np.unique(score)) < 20  # many ties in the data
    for g_pos in range(3):
        for g_neg in range(3):
            expected = brute_pairwise_accuracy(y, score, groups, g_pos, g_neg)
            got = pairwise_accuracy(
                y, score, sensitive_features=groups, group_pos=g_pos, group_neg=g_neg
            )
            assert got == pytest.approx(expected, abs=1e-12)


def test_pairwise_accuracy_all_ties_is_one_half():
    y = np.array([1, 0, 1, 0])
    groups = np.array(["a", "a", "b", "b"])
    value = pairwise_accuracy(
        y, np.full(4, 0.3), sensitive_features=groups, group_pos="a", group_neg="b"
    )
    assert value == 0.5


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("n_groups", [2, 3, 4])
def test_gpa_matches_brute_force(seed, n_groups):
    y, score, groups = random_data(seed, 50, n_groups)
    expected = brute_gpa(y, score, groups)
    assert expected is not None
    assert gpa(y, score, sensitive_features=groups) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.integers(0, 2)),
        min_size=2,
        max_size=25,
    )
)
def test_gpa_property_matches_brute_force_or_raises(rows):
    y, score, groups = (np.array(column) for column in zip(*rows, strict=True))
    expected = brute_gpa(y, score, groups)
    if expected is None or len(set(groups.tolist())) < 2:
        with pytest.raises(ValueError, match="sensitive_features"):
            gpa(y, score, sensitive_features=groups)
    else:
        assert gpa(y, score, sensitive_features=groups) == pytest.approx(expected, abs=1e-12)


def test_gpa_two_groups_hand_computed():
    # Group a: positive 0.9, negatives 0.4 and 0.95; group b: positive 0.3, negative 0.5.
    y = [1, 0, 0, 1, 0]
    score = [0.9, 0.4, 0.95, 0.3, 0.5]
    groups = ["a", "a", "a", "b", "b"]
    # A_{a>b}: 0.9 > 0.5 -> 1. A_{b>a}: 0.3 vs 0.4 and 0.95 -> 0. GPA = 1.
    assert gpa(y, score, sensitive_features=groups) == 1.0
    # Moving b's positive to 0.5 (a tie with b's own negative is not used) gives
    # A_{b>a} = (1 + 0) / 2 = 0.5 and GPA = 0.5.
    score[3] = 0.5
    assert gpa(y, score, sensitive_features=groups) == 0.5


def test_gpa_with_three_groups_is_the_max_over_pairs():
    rng = np.random.default_rng(3)
    y, score, groups = random_data(4, 90, 3)
    score = rng.uniform(size=90)
    pair_gaps = {}
    for i, j in combinations(range(3), 2):
        a_ij = pairwise_accuracy(y, score, sensitive_features=groups, group_pos=i, group_neg=j)
        a_ji = pairwise_accuracy(y, score, sensitive_features=groups, group_pos=j, group_neg=i)
        pair_gaps[(i, j)] = abs(a_ij - a_ji)
    assert len(set(pair_gaps.values())) == 3  # the maximum is not trivially shared
    assert gpa(y, score, sensitive_features=groups) == max(pair_gaps.values())


def test_gpa_skips_groups_without_both_classes():
    y, score, groups = random_data(5, 60, 2)
    # A third group with positives only: every pair that involves it is undefined.
    y3 = np.concatenate([y, np.ones(5, dtype=int)])
    score3 = np.concatenate([score, np.linspace(0, 1, 5)])
    groups3 = np.concatenate([groups, np.full(5, 2)])
    assert gpa(y3, score3, sensitive_features=groups3) == gpa(y, score, sensitive_features=groups)


def test_gpa_is_invariant_to_monotone_transforms_of_scores():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 100)
    groups = rng.integers(0, 2, 100)
    logits = rng.normal(size=100) + y
    assert gpa(y, logits, sensitive_features=groups) == pytest.approx(
        gpa(y, 1 / (1 + np.exp(-logits)), sensitive_features=groups), abs=1e-12
    )


def test_gpa_accepts_string_groups_and_alias():
    y, score, groups = random_data(7, 40, 2)
    names = np.where(groups == 0, "female", "male")
    assert group_pairwise_accuracy_difference is gpa
    assert gpa(y, score, sensitive_features=names) == gpa(y, score, sensitive_features=groups)


# ---------------------------------------------------------------------------------------
# Discrimination curve and AUDC


def scores_on_and_off_the_grid(seed, n):
    """Scores in [0, 1], a third of them exactly on the default threshold grid."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 100)
    score = rng.uniform(size=n)
    on_grid = rng.uniform(size=n) < 1 / 3
    score[on_grid] = rng.choice(grid, on_grid.sum())
    return score


@pytest.mark.parametrize("n_groups", [2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_discrimination_gap_matches_fairlearn_at_every_threshold(seed, n_groups):
    rng = np.random.default_rng(seed)
    n = 300
    score = scores_on_and_off_the_grid(seed, n)
    groups = rng.integers(0, n_groups, n)
    y = rng.integers(0, 2, n)
    thresholds, gaps = discrimination_curve(y, score, sensitive_features=groups)
    np.testing.assert_array_equal(thresholds, np.linspace(0, 1, 100))
    expected = np.array(
        [
            demographic_parity_difference(y, (score >= t).astype(int), sensitive_features=groups)
            for t in thresholds
        ]
    )
    np.testing.assert_allclose(gaps, expected, rtol=0, atol=1e-12)
    assert audc(y, score, sensitive_features=groups) == pytest.approx(
        np.trapezoid(expected, thresholds), abs=1e-12
    )


def test_discrimination_gap_with_three_groups_is_max_over_pairs():
    rng = np.random.default_rng(11)
    score = rng.uniform(size=150)
    groups = np.repeat(["a", "b", "c"], 50)
    y = rng.integers(0, 2, 150)
    thresholds = np.array([0.1, 0.4, 0.6, 0.9])
    _, gaps = discrimination_curve(y, score, sensitive_features=groups, thresholds=thresholds)
    for t, gap in zip(thresholds, gaps, strict=True):
        rates = {g: np.mean(score[groups == g] >= t) for g in "abc"}
        pair_gap = max(abs(rates[i] - rates[j]) for i, j in combinations("abc", 2))
        assert gap == pytest.approx(pair_gap, abs=1e-12)


def test_audc_of_fully_separated_groups():
    # Group 0 always selected (score 1), group 1 only at threshold 0 (score 0): the gap is
    # 0 at t = 0 and 1 at the 99 other thresholds; the trapezoid loses half the first step.
    y = np.array([0, 1, 0, 1])
    score = np.array([1.0, 1.0, 0.0, 0.0])
    groups = np.array([0, 0, 1, 1])
    assert audc(y, score, sensitive_features=groups) == pytest.approx(1 - 0.5 / 99, abs=1e-12)


@pytest.mark.parametrize("gap", [0.0, 0.25, 0.6])
def test_audc_of_a_constant_gap_is_the_gap_times_the_span(gap):
    # Group 0: a share `gap` of scores at 1, the rest at 0; group 1: all 0. On thresholds
    # in (0, 1] the gap is constant, so the area is gap * (span of the thresholds).
    n = 20
    score = np.concatenate([np.ones(int(gap * n)), np.zeros(n - int(gap * n)), np.zeros(n)])
    groups = np.repeat([0, 1], n)
    y = np.tile([0, 1], n)
    thresholds = np.linspace(0.2, 1.0, 9)
    value = area_under_discrimination_curve(
        y, score, sensitive_features=groups, thresholds=thresholds
    )
    assert value == pytest.approx(gap * 0.8, abs=1e-12)


def test_audc_of_a_step_curve():
    # Group a at 0.5, group b at 0: the gap is 1 on (0, 0.5] and 0 elsewhere.
    score = np.array([0.5, 0.5, 0.0, 0.0])
    groups = np.array(["a", "a", "b", "b"])
    y = np.array([1, 0, 1, 0])
    thresholds = np.linspace(0, 1, 11)
    _, gaps = discrimination_curve(y, score, sensitive_features=groups, thresholds=thresholds)
    np.testing.assert_array_equal(gaps, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    # Trapezoids: 0.05 (rise) + 4 * 0.1 (flat) + 0.05 (fall).
    assert audc(y, score, sensitive_features=groups, thresholds=thresholds) == pytest.approx(0.5)


def test_audc_is_zero_for_identical_groups():
    score = np.linspace(0, 1, 50)
    y = np.tile([0, 1], 50)
    assert audc(y, np.tile(score, 2), sensitive_features=np.repeat([0, 1], 50)) == 0.0


# ---------------------------------------------------------------------------------------
# Tradeoff distance and equal-tradeoff line


def test_tradeoff_distance_hand_values():
    assert tradeoff_distance(1.0, 0.0) == 0.0
    assert tradeoff_distance(0.8, 0.1) == pytest.approx(0.3)
    assert tradeoff_distance(0.5, 1.0) == pytest.approx(1.5)
    assert isinstance(tradeoff_distance(0.8, 0.1), float)


def test_tradeoff_distance_selects_best_model():
    aucs = np.array([0.90, 0.80, 0.70])
    gpas = np.array([0.20, 0.05, 0.01])
    distances = tradeoff_distance(aucs, gpas)
    np.testing.assert_allclose(distances, [0.30, 0.25, 0.31])
    assert int(np.argmin(distances)) == 1


def test_equal_tradeoff_line_passes_through_best_model_at_equal_distance():
    x, y = equal_tradeoff_line(0.8, 0.1, num=50)
    assert x.shape == y.shape == (50,)
    np.testing.assert_allclose((1 - x) + (1 - y), 0.3)
    assert x[0] == pytest.approx(0.7) and x[-1] == pytest.approx(1.0)  # clipped at AUC 1
    assert np.all((y >= 0) & (y <= 1))
    assert np.min(np.abs(x - 0.8) + np.abs(y - 0.9)) < 0.01


def test_equal_tradeoff_line_far_from_ideal_is_clipped_to_unit_square():
    x, y = equal_tradeoff_line(0.3, 0.9, num=5)  # distance 1.6
    assert x[0] == 0.0 and x[-1] == pytest.approx(0.4)
    np.testing.assert_allclose(y, 0.4 - x, atol=1e-12)
