"""Fairness metrics on several sensitive attributes: intersections, worst pairs, per attribute."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from keras_sqnn.metrics import (
    area_under_discrimination_curve,
    audc,
    gpa,
    pairwise_accuracy_table,
    worst_group_pair,
)
from keras_sqnn.validation import encode_groups, sensitive_columns


def brute_pairwise_accuracy(y, score, groups, pos, neg):
    """Fraction of (positive of `pos`, negative of `neg`) pairs ordered right, ties 1/2."""
    positives = [score[i] for i in range(len(y)) if groups[i] == pos and y[i] == 1]
    negatives = [score[i] for i in range(len(y)) if groups[i] == neg and y[i] == 0]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in positives for q in negatives)
    return wins / (len(positives) * len(negatives))


def brute_pair_gaps(y, score, groups):
    """{(a, b): |A_{a>b} - A_{b>a}|} over pairs of groups that both hold both classes."""
    usable = [
        g for g in sorted(set(groups)) if {0, 1} <= {y[i] for i in np.flatnonzero(groups == g)}
    ]
    return {
        (a, b): abs(
            brute_pairwise_accuracy(y, score, groups, a, b)
            - brute_pairwise_accuracy(y, score, groups, b, a)
        )
        for a, b in combinations(usable, 2)
    }


def joined(s):
    """Independent intersection labels: one string per row, e.g. "1|2"."""
    return np.array(["|".join(str(v) for v in row) for row in np.asarray(s)])


def data(seed, n=240, radices=(2, 3)):
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.integers(0, g, n) for g in radices])
    y = rng.integers(0, 2, n)
    score = np.round(rng.uniform(size=n) * 0.6 + 0.2 * y + 0.05 * s[:, 0], 2)
    return y, score, s


@pytest.mark.parametrize("seed", range(4))
def test_gpa_and_audc_of_several_columns_are_those_of_the_joined_labels(seed):
    y, score, s = data(seed)
    labels = joined(s)
    assert gpa(y, score, sensitive_features=s) == pytest.approx(
        max(brute_pair_gaps(y, score, labels).values()), abs=1e-12
    )
    assert audc(y, score, sensitive_features=s) == pytest.approx(
        audc(y, score, sensitive_features=labels), abs=1e-12
    )
    frame = pd.DataFrame({"sex": s[:, 0], "race": s[:, 1]})
    assert gpa(y, score, sensitive_features=frame) == gpa(y, score, sensitive_features=s)


@pytest.mark.parametrize("seed", range(4))
def test_worst_gpa_pair_and_table_match_brute_force(seed):
    y, score, s = data(seed, radices=(2, 2, 2))
    gaps = brute_pair_gaps(y, score, joined(s))
    worst = max(gaps, key=gaps.get)
    as_tuple = tuple(tuple(int(v) for v in key.split("|")) for key in worst)
    assert worst_group_pair(y, score, sensitive_features=s) == as_tuple

    table = pairwise_accuracy_table(y, score, sensitive_features=s)
    assert len(table) == len(gaps)
    assert table["gap"].is_monotonic_decreasing
    assert (table.loc[0, "group_a"], table.loc[0, "group_b"]) == as_tuple
    for row in table.itertuples():
        key = ("|".join(map(str, row.group_a)), "|".join(map(str, row.group_b)))
        assert row.gap == pytest.approx(gaps[key], abs=1e-12)
        assert row.accuracy_ab == pytest.approx(
            brute_pairwise_accuracy(y, score, joined(s), *key), abs=1e-12
        )
        assert row.n_a == int(np.sum(joined(s) == key[0]))


@pytest.mark.parametrize("seed", range(3))
def test_worst_audc_pair_is_the_pair_with_the_largest_own_area(seed):
    y, score, s = data(seed)
    labels = joined(s)
    areas = {}
    for a, b in combinations(sorted(set(labels)), 2):
        rows = (labels == a) | (labels == b)
        areas[(a, b)] = area_under_discrimination_curve(
            y[rows], score[rows], sensitive_features=labels[rows]
        )
    worst = max(areas, key=areas.get)
    expected = tuple(tuple(int(v) for v in key.split("|")) for key in worst)
    assert worst_group_pair(y, score, sensitive_features=s, metric="audc") == expected
    # AUDC takes the worst pair at each threshold: at least the worst pair's own area.
    assert audc(y, score, sensitive_features=s) >= areas[worst] - 1e-12


def test_an_intersection_without_examples_is_skipped_not_nan():
    y, score, s = data(0, radices=(2, 2))
    keep = ~((s[:, 0] == 1) & (s[:, 1] == 1))  # no example of the intersection (1, 1)
    y, score, s = y[keep], score[keep], s[keep]
    _, groups = encode_groups(s)
    assert groups.tolist() == [(0, 0), (0, 1), (1, 0)]
    value, area = gpa(y, score, sensitive_features=s), audc(y, score, sensitive_features=s)
    assert np.isfinite(value) and np.isfinite(area)
    assert value == pytest.approx(max(brute_pair_gaps(y, score, joined(s)).values()))
    table = pairwise_accuracy_table(y, score, sensitive_features=s)
    assert (1, 1) not in set(table["group_a"]) | set(table["group_b"])
    assert len(table) == 3


def test_pairs_whose_group_lacks_a_class_are_skipped_and_none_left_raises():
    y, score, s = data(1, radices=(2, 2))
    one_class = (s[:, 0] == 1) & (s[:, 1] == 1)
    y = np.where(one_class, 1, y)  # intersection (1, 1): positives only
    table = pairwise_accuracy_table(y, score, sensitive_features=s)
    assert (1, 1) not in set(table["group_a"]) | set(table["group_b"])
    y_bad = np.where(s[:, 0] == 0, 1, 0)  # every group holds one class only
    with pytest.raises(ValueError, match="at least two groups .* both"):
        gpa(y_bad, score, sensitive_features=s)


def test_encode_groups_of_several_columns_are_the_observed_sorted_tuples():
    s = np.array([[1, "b"], [0, "a"], [1, "b"], [1, "a"]], dtype=object)
    codes, groups = encode_groups(s)
    assert groups.tolist() == [(0, "a"), (1, "a"), (1, "b")]
    assert [groups[c] for c in codes] == [tuple(row) for row in s.tolist()]


def test_sensitive_columns_shapes_and_errors():
    assert len(sensitive_columns(np.zeros((4, 1)))) == 1
    assert len(sensitive_columns(pd.DataFrame({"a": [0, 1], "b": [1, 0], "c": [0, 0]}))) == 3
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, k\).*\(4, 0\)"):
        sensitive_columns(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="1-D"):
        sensitive_columns(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match=r"sensitive_features\[:, 1\]` to have no missing"):
        gpa([0, 1], [0.1, 0.9], sensitive_features=np.array([[0, np.nan], [1, 1.0]]))


def test_worst_group_pair_rejects_unknown_metric():
    y, score, s = data(2)
    with pytest.raises(ValueError, match=r"`metric` to be one of \('gpa', 'audc'\)"):
        worst_group_pair(y, score, sensitive_features=s, metric="adrg")
