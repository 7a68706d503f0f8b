"""TabularPreprocessor against scikit-learn, and proof that test folds never leak."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from keras_sqnn.datasets import (
    TabularPreprocessor,
    fetch_banks,
    fetch_compas,
    nested_folds,
    train_test_arrays,
)


def sklearn_reference(dataset, train, test):
    """The same encoding built from scikit-learn's StandardScaler and OneHotEncoder."""
    frame = dataset.X.astype({c: str for c in dataset.categorical})
    encoder = ColumnTransformer(
        [
            ("num", StandardScaler(), dataset.continuous),
            ("cat", OneHotEncoder(handle_unknown="ignore"), dataset.categorical),
        ],
        sparse_threshold=0,
    )
    x_train = encoder.fit_transform(frame.iloc[train])
    return x_train, encoder.transform(frame.iloc[test])


@pytest.fixture(scope="module")
def compas(tmp_path_factory):
    return fetch_compas(data_home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def banks(tmp_path_factory):
    return fetch_banks(data_home=tmp_path_factory.mktemp("home"))


@pytest.mark.parametrize("name", ["compas", "banks"])
def test_matches_scikit_learn_on_every_outer_fold(name, request):
    dataset = request.getfixturevalue(name)
    for fold in nested_folds(dataset.y, dataset.s, seed=3):
        arrays = train_test_arrays(dataset, fold.train, fold.test)
        ref_train, ref_test = sklearn_reference(dataset, fold.train, fold.test)
        np.testing.assert_allclose(arrays.x_train, ref_train, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(arrays.x_test, ref_test, rtol=1e-5, atol=1e-5)
        assert arrays.x_train.dtype == np.float32 and arrays.x_test.dtype == np.float32
        assert np.isfinite(arrays.x_train).all() and np.isfinite(arrays.x_test).all()
        np.testing.assert_array_equal(arrays.y_test, dataset.y.to_numpy()[fold.test])
        np.testing.assert_array_equal(arrays.s_train, dataset.s.to_numpy()[fold.train])


def test_training_transform_ignores_the_test_fold(compas):
    fold = nested_folds(compas.y, compas.s, seed=0)[1]
    before = train_test_arrays(compas, fold.train, fold.test)
    # Change every test row beyond recognition: new numbers, unseen categories.
    changed = compas.X.copy()
    for column in compas.continuous:
        changed.loc[fold.test, column] = changed.loc[fold.test, column] * 1000 + 7
    for column in compas.categorical:
        changed[column] = changed[column].astype(object)
        changed.loc[fold.test, column] = "never seen in training"
    altered = type(compas)(**{**vars(compas), "X": changed})
    after = train_test_arrays(altered, fold.train, fold.test)
    np.testing.assert_array_equal(after.x_train, before.x_train)
    assert after.preprocessor.get_feature_names_out() == before.preprocessor.get_feature_names_out()
    # Statistics are those of the training rows, computed here independently.
    train = compas.X.iloc[fold.train]
    np.testing.assert_allclose(before.preprocessor.mean_, train[compas.continuous].mean())
    np.testing.assert_allclose(
        before.preprocessor.scale_, train[compas.continuous].std(ddof=0).replace(0, 1)
    )
    # Unseen categories become all-zero indicators.
    n_continuous = len(compas.continuous)
    assert not after.x_test[:, n_continuous:].any()
    # The training columns are standardized exactly; the test ones are not forced to be.
    np.testing.assert_allclose(before.x_train[:, :n_continuous].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(before.x_train[:, :n_continuous].std(axis=0), 1, atol=1e-5)


def test_categories_come_from_the_training_rows_only():
    train = pd.DataFrame({"job": ["b", "a", "b"], "age": [1.0, 2.0, 3.0]})
    test = pd.DataFrame({"job": ["c", "a"], "age": [2.0, 5.0]})
    pre = TabularPreprocessor(categorical=["job"], continuous=["age"]).fit(train)
    assert pre.get_feature_names_out() == ["age", "job=a", "job=b"]
    std = np.std([1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        pre.transform(test), [[0.0, 0.0, 0.0], [3.0 / std, 1.0, 0.0]], rtol=1e-6
    )


def test_constant_column_is_centred_not_divided_by_zero():
    frame = pd.DataFrame({"x": [4.0, 4.0, 4.0]})
    out = TabularPreprocessor(categorical=[], continuous=["x"]).fit_transform(frame)
    np.testing.assert_array_equal(out, np.zeros((3, 1), dtype=np.float32))


def test_numpy_input_needs_feature_names():
    array = np.array([["a", 1.0], ["b", 2.0]], dtype=object)
    pre = TabularPreprocessor(categorical=["k"], continuous=["v"], feature_names=["k", "v"])
    np.testing.assert_allclose(pre.fit_transform(array), [[-1, 1, 0], [1, 0, 1]])
    with pytest.raises(ValueError, match=r"Expected a DataFrame, or a 2-D array .* Received"):
        TabularPreprocessor(categorical=["k"], continuous=["v"]).fit(array)
    with pytest.raises(ValueError, match=r"Expected X to have 2 columns .* Received: X.shape"):
        pre.transform(array[:, :1])


def test_config_round_trip_is_json_and_equal(compas):
    fold = nested_folds(compas.y, compas.s, seed=0)[0]
    arrays = train_test_arrays(compas, fold.train, fold.test)
    config = json.loads(json.dumps(arrays.preprocessor.get_config()))
    rebuilt = TabularPreprocessor.from_config(config)
    np.testing.assert_array_equal(rebuilt.transform(compas.X.iloc[fold.test]), arrays.x_test)


def test_bad_input_gives_clear_errors():
    frame = pd.DataFrame({"a": ["x"], "b": [1.0]})
    with pytest.raises(RuntimeError, match="call fit first"):
        TabularPreprocessor(categorical=["a"], continuous=["b"]).transform(frame)
    with pytest.raises(ValueError, match=r"Received: columns in both=\['a'\]"):
        TabularPreprocessor(categorical=["a"], continuous=["a"])
    with pytest.raises(TypeError, match=r"Received: categorical='a'"):
        TabularPreprocessor(categorical="a", continuous=[])
    with pytest.raises(ValueError, match=r"Received: missing=\['c'\]"):
        TabularPreprocessor(categorical=["a"], continuous=["c"]).fit(frame)
    with pytest.raises(ValueError, match=r"Received: NaN or inf in \['b'\]"):
        TabularPreprocessor(categorical=[], continuous=["b"]).fit(frame.assign(b=[np.nan]))
    with pytest.raises(ValueError, match="Received: X with 0 rows"):
        TabularPreprocessor(categorical=["a"], continuous=["b"]).fit(frame.iloc[:0])


def test_train_test_arrays_checks_the_rows(compas):
    with pytest.raises(ValueError, match="has no official test split"):
        train_test_arrays(compas)
    with pytest.raises(ValueError, match=r"Expected disjoint .* Received: 1 shared rows"):
        train_test_arrays(compas, [0, 1, 2], [2, 3])
    with pytest.raises(ValueError, match=r"Received: min=0, max=5278"):
        train_test_arrays(compas, [0, 5278], [3])
    with pytest.raises(ValueError, match="Expected both `train` and `test`"):
        train_test_arrays(compas, [0, 1], None)
    mask = np.zeros(len(compas), dtype=bool)
    mask[:100] = True
    arrays = train_test_arrays(compas, mask, ~mask)
    assert arrays.x_train.shape[0] == 100 and arrays.x_test.shape[0] == len(compas) - 100
