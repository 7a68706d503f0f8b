"""nested_folds: partitions, stratification on (y, s), determinism."""

from __future__ import annotations

import numpy as np
import pytest

from keras_sqnn.datasets import fetch_compas, nested_folds
from keras_sqnn.datasets.folds import strata


@pytest.fixture(scope="module")
def compas(tmp_path_factory):
    return fetch_compas(data_home=tmp_path_factory.mktemp("home"))


def _stratum_counts(groups: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(groups[rows], minlength=k)


def test_outer_test_folds_partition_the_rows(compas):
    folds = nested_folds(compas.y, compas.s, seed=0)
    assert len(folds) == 3
    tests = np.concatenate([fold.test for fold in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(compas)))
    for fold in folds:
        assert np.intersect1d(fold.train, fold.test).size == 0
        np.testing.assert_array_equal(np.union1d(fold.train, fold.test), np.arange(len(compas)))


def test_inner_folds_partition_each_outer_training_set(compas):
    for fold in nested_folds(compas.y, compas.s, n_outer=3, n_inner=3, seed=1):
        assert len(fold.inner) == 3
        validations = np.concatenate([validation for _, validation in fold.inner])
        np.testing.assert_array_equal(np.sort(validations), fold.train)
        for fit, validation in fold.inner:
            assert np.intersect1d(fit, validation).size == 0
            np.testing.assert_array_equal(np.union1d(fit, validation), fold.train)
            assert np.intersect1d(fit, fold.test).size == 0


def test_folds_are_stratified_on_label_and_group(compas):
    groups = strata(compas.y, compas.s)
    assert sorted(set(groups.tolist())) == [0, 1, 2, 3]
    folds = nested_folds(compas.y, compas.s, seed=0)
    # Each (y, s) stratum is spread over the folds with counts that differ by at most 1.
    counts = np.array([_stratum_counts(groups, fold.test, 4) for fold in folds])
    assert (counts.max(axis=0) - counts.min(axis=0) <= 1).all()
    for fold in folds:
        inner = np.array([_stratum_counts(groups, v, 4) for _, v in fold.inner])
        assert (inner.max(axis=0) - inner.min(axis=0) <= 1).all()


def test_strata_separate_every_label_group_pair():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0, 2, 0, 2, 1, 1])
    groups = strata(y, s)
    pairs = {(a, b) for a, b in zip(y.tolist(), s.tolist(), strict=True)}
    assert len(set(groups.tolist())) == len(pairs) == 6


def test_deterministic_for_a_seed_and_different_across_seeds(compas):
    first = nested_folds(compas.y, compas.s, seed=7)
    again = nested_folds(compas.y, compas.s, seed=7)
    other = nested_folds(compas.y, compas.s, seed=8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.test, b.test)
        for (fa, va), (fb, vb) in zip(a.inner, b.inner, strict=True):
            np.testing.assert_array_equal(fa, fb)
            np.testing.assert_array_equal(va, vb)
    assert not np.array_equal(first[0].test, other[0].test)


def test_other_fold_counts():
    y = np.tile([0, 1], 50)
    s = np.repeat([0, 1], 50)
    folds = nested_folds(y, s, n_outer=5, n_inner=2, seed=0)
    assert len(folds) == 5 and all(len(f.inner) == 2 for f in folds)
    assert all(len(f.test) == 20 for f in folds)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_outer": 1}, r"Expected n_outer to be an integer >= 2. Received: n_outer=1"),
        ({"n_inner": 2.5}, r"Received: n_inner=2.5"),
        ({"seed": -1}, r"Received: seed=-1"),
        ({"seed": "0"}, r"Received: seed='0'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nested_folds([0, 1] * 10, [0] * 20, **kwargs)


def test_bad_labels_and_groups():
    with pytest.raises(ValueError, match=r"Received: len\(y\)=3, len\(s\)=2"):
        nested_folds([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="Expected `s` to hold integers >= 0"):
        nested_folds([0, 1, 0], [0, -1, 0])
    with pytest.raises(ValueError, match="Expected `y` to hold integers >= 0"):
        nested_folds([0.5, 1, 0], [0, 1, 0])
