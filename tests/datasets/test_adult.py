"""fetch_adult against the raw files read independently with the csv module."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from keras_sqnn.datasets import fetch_adult, train_test_arrays


def _rows(path, skip_first: bool) -> list[list[str]]:
    """The records of adult.data / adult.test, fields stripped, blank lines skipped."""
    with open(path, newline="") as stream:
        lines = stream.read().splitlines()
    if skip_first:
        assert lines[0].startswith("|"), "adult.test starts with a comment line"
        lines = lines[1:]
    return [[field.strip() for field in row] for row in csv.reader(lines) if row]


@pytest.fixture(scope="module")
def reference(raw_files):
    train = _rows(raw_files["adult.data"], skip_first=False)
    test = _rows(raw_files["adult.test"], skip_first=True)
    return train, test


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    return fetch_adult(data_home=tmp_path_factory.mktemp("home"))


def test_row_counts_and_official_split(adult, reference):
    train, test = reference
    assert (len(train), len(test)) == (32561, 16281)
    assert len(adult) == 48842 == len(adult.X)
    assert adult.is_test.dtype == bool
    assert int(adult.is_test.sum()) == 16281
    assert not adult.is_test[:32561].any() and adult.is_test[32561:].all()


def test_labels_and_groups_match_the_files(adult, reference):
    records = reference[0] + reference[1]
    expected_y = np.array([row[14].rstrip(".") == ">50K" for row in records], dtype=np.int32)
    expected_s = np.array([{"Female": 0, "Male": 1}[row[9]] for row in records], dtype=np.int32)
    np.testing.assert_array_equal(adult.y.to_numpy(), expected_y)
    np.testing.assert_array_equal(adult.s.to_numpy(), expected_s)
    # adult.names: "Probability for the label '>50K': 23.93%" over the 48,842 rows.
    assert int(expected_y.sum()) == 11687
    assert round(100 * expected_y.mean(), 2) == 23.93
    assert int(adult.y[~adult.is_test].sum()) == 7841
    assert np.bincount(adult.s).tolist() == [16192, 32650]
    assert adult.y.dtype == np.int32 and adult.s.dtype == np.int32


def test_question_marks_are_kept_as_a_category(adult, reference):
    records = reference[0] + reference[1]
    with_missing = sum("?" in row for row in records)
    assert with_missing == 3620  # 48,842 - 45,222, the usual count after dropping them
    assert int((adult.X == "?").any(axis=1).sum()) == with_missing
    assert {"workclass", "occupation", "native-country"} == {
        c for c in adult.X.columns if (adult.X[c] == "?").any()
    }


def test_features_and_metadata(adult):
    assert adult.X.shape == (48842, 13)
    assert "sex" not in adult.X.columns and "income" not in adult.X.columns
    assert adult.feature_names == list(adult.X.columns)
    assert set(adult.categorical) | set(adult.continuous) == set(adult.feature_names)
    assert adult.sensitive_name == "sex"
    assert adult.group_names == ["Female", "Male"]
    assert adult.n_groups == 2
    assert set(adult.sha256) == {"adult.data", "adult.test"}


def test_include_sensitive_and_numpy_output(tmp_path):
    ds = fetch_adult(data_home=tmp_path, as_frame=False, include_sensitive=True)
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == object
    assert ds.X.shape == (48842, 14)
    assert isinstance(ds.y, np.ndarray) and ds.y.dtype == np.int32
    sex = ds.X[:, ds.feature_names.index("sex")]
    np.testing.assert_array_equal(sex == "Male", ds.s == 1)


def test_official_split_arrays_are_ready_for_fit(adult):
    arrays = train_test_arrays(adult)
    assert arrays.x_train.shape[0] == 32561 and arrays.x_test.shape[0] == 16281
    assert arrays.x_train.shape[1] == arrays.x_test.shape[1]
    assert arrays.x_train.dtype == np.float32 and arrays.y_train.dtype == np.int32
    assert np.isfinite(arrays.x_train).all() and np.isfinite(arrays.x_test).all()
    # Standardized with the official training rows only.
    train = adult.X[~adult.is_test]
    np.testing.assert_allclose(arrays.preprocessor.mean_, train[adult.continuous].mean())
    assert not np.allclose(arrays.preprocessor.mean_, adult.X[adult.continuous].mean())


def test_numpy_and_frame_outputs_encode_the_same(adult, tmp_path):
    as_array = fetch_adult(data_home=tmp_path, as_frame=False)
    np.testing.assert_array_equal(
        train_test_arrays(as_array).x_test, train_test_arrays(adult).x_test
    )
    assert isinstance(adult.X, pd.DataFrame)
