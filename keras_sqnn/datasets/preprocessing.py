"""Encoding of tabular features, fitted on a training fold only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from keras_sqnn.datasets._dataset import Dataset

_UNFITTED = "Expected a fitted TabularPreprocessor: call fit first. Received: unfitted"


class TabularPreprocessor:
    """One-hot encode categorical columns and standardize continuous ones.

    Everything is learned by `fit` on the rows it is given, and only on them: the
    categories of each categorical column and the mean and standard deviation of each
    continuous one. Fit it on a training fold and `transform` the other folds with it, so
    no statistic of a test fold leaks into training.

    - Continuous columns become `(x - mean) / std`, with the population standard deviation
      (`ddof=0`, as `sklearn.preprocessing.StandardScaler`); a constant column gets
      `std = 1`. Missing values are an error.
    - Categorical columns become one indicator per category seen by `fit` (sorted, values
      compared as strings). A category not seen by `fit` becomes all zeros.
    - Output columns: continuous first, then the indicators, as `get_feature_names_out()`;
      `float32`.

    Args:
        categorical: columns to one-hot encode.
        continuous: columns to standardize.
        feature_names: the column names of NumPy input (`Dataset.feature_names` when
            `as_frame=False`). Not needed for DataFrame input.

    Example:
    >>> import pandas as pd
    >>> train = pd.DataFrame({"job": ["a", "b", "a"], "age": [20.0, 30.0, 40.0]})
    >>> pre = TabularPreprocessor(categorical=["job"], continuous=["age"]).fit(train)
    >>> pre.get_feature_names_out()
    ['age', 'job=a', 'job=b']
    >>> pre.transform(pd.DataFrame({"job": ["c"], "age": [30.0]})).tolist()
    [[0.0, 0.0, 0.0]]
    """

    def __init__(
        self,
        *,
        categorical: Sequence[str],
        continuous: Sequence[str],
        feature_names: Sequence[str] | None = None,
    ) -> None:
        self.categorical = _check_names(categorical, "categorical")
        self.continuous = _check_names(continuous, "continuous")
        overlap = sorted(set(self.categorical) & set(self.continuous))
        if overlap:
            raise ValueError(
                "Expected each column to be either categorical or continuous. "
                f"Received: columns in both={overlap}"
            )
        if not self.categorical and not self.continuous:
            raise ValueError(
                "Expected at least one categorical or continuous column. "
                "Received: categorical=[], continuous=[]"
            )
        self.feature_names = None if feature_names is None else list(feature_names)
        self.categories_: dict[str, list[str]] | None = None
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    @classmethod
    def for_dataset(cls, dataset: Dataset) -> TabularPreprocessor:
        """Return an unfitted preprocessor for the columns of a tabular `Dataset`."""
        if not dataset.categorical and not dataset.continuous:
            raise ValueError(
                "Expected a tabular dataset with categorical or continuous columns. "
                f"Received: dataset {dataset.name!r} with none"
            )
        return cls(
            categorical=dataset.categorical,
            continuous=dataset.continuous,
            feature_names=dataset.feature_names,
        )

    def fit(self, X: Any) -> TabularPreprocessor:
        """Learn categories, means and standard deviations from the rows of `X`.

        Args:
            X: DataFrame with the configured columns (or a 2-D array with columns
                `feature_names`).

        Returns:
            self, fitted.
        """
        frame = self._as_frame(X)
        if len(frame) == 0:
            raise ValueError("Expected at least one row to fit on. Received: X with 0 rows")
        values = _continuous_values(frame, self.continuous)
        std = values.std(axis=0)
        self.mean_ = values.mean(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        self.categories_ = {
            column: sorted(set(frame[column].astype(str).tolist())) for column in self.categorical
        }
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode `X` with the statistics learned by `fit`.

        Args:
            X: DataFrame with the configured columns (or a 2-D array with columns
                `feature_names`).

        Returns:
            A `float32` array of shape `(len(X), len(get_feature_names_out()))`.
        """
        if self.categories_ is None or self.mean_ is None or self.scale_ is None:
            raise RuntimeError(_UNFITTED)
        frame = self._as_frame(X)
        parts = [(_continuous_values(frame, self.continuous) - self.mean_) / self.scale_]
        for column, categories in self.categories_.items():
            codes = pd.Categorical(frame[column].astype(str), categories=categories).codes
            one_hot = np.zeros((len(frame), len(categories)))
            seen = codes >= 0
            one_hot[np.flatnonzero(seen), codes[seen]] = 1.0
            parts.append(one_hot)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fit on `X` and return it encoded."""
        return self.fit(X).transform(X)

    def get_feature_names_out(self) -> list[str]:
        """The names of the output columns: continuous names, then `column=category`."""
        if self.categories_ is None:
            raise RuntimeError(_UNFITTED)
        names = list(self.continuous)
        for column, categories in self.categories_.items():
            names.extend(f"{column}={category}" for category in categories)
        return names

    def as_keras_model(self) -> Any:
        """The fitted encoding as a Keras model of the raw columns, for serving.

        Inputs, one per column and named by it, of shape ``(batch, 1)``: continuous columns
        as ``float64``, categorical ones as strings (the values `fit` saw, compared as
        strings). The output is `transform`'s ``float32`` matrix, column for column:
        standardization in ``float64`` (``keras.layers.Normalization``), then one indicator
        per fitted category (``keras.layers.StringLookup``; an unseen category, which
        `StringLookup` maps to its out-of-vocabulary slot, is cropped off and so becomes
        all zeros). Only built-in Keras layers: it saves as ``.keras`` and exports without
        keras_sqnn.

        Returns:
            A functional ``keras.Model`` named ``"tabular_preprocessor"``.

        Example:
        >>> import pandas as pd, tensorflow as tf
        >>> train = pd.DataFrame({"job": ["a", "b", "a"], "age": [20.0, 30.0, 40.0]})
        >>> pre = TabularPreprocessor(categorical=["job"], continuous=["age"]).fit(train)
        >>> encoder = pre.as_keras_model()
        >>> encoder({"age": tf.constant([[30.0]], "float64"),
        ...          "job": tf.constant([["c"]])}).numpy().tolist()
        [[0.0, 0.0, 0.0]]
        """
        import keras

        if self.categories_ is None or self.mean_ is None or self.scale_ is None:
            raise RuntimeError(_UNFITTED)
        inputs = {name: keras.Input((1,), dtype="float64", name=name) for name in self.continuous}
        inputs.update(
            {name: keras.Input((1,), dtype="string", name=name) for name in self.categorical}
        )
        parts = []
        if self.continuous:
            continuous = [inputs[name] for name in self.continuous]
            stacked = (
                keras.layers.Concatenate(dtype="float64", name="continuous")(continuous)
                if len(continuous) > 1
                else continuous[0]
            )
            parts.append(
                keras.layers.Normalization(
                    mean=self.mean_.tolist(),
                    variance=np.square(self.scale_).tolist(),
                    dtype="float64",
                    name="standardize",
                )(stacked)
            )
        for index, (name, categories) in enumerate(self.categories_.items()):
            one_hot = keras.layers.StringLookup(
                vocabulary=categories,
                num_oov_indices=1,
                output_mode="one_hot",
                name=f"lookup_{index}",
            )(inputs[name])
            # Drop the out-of-vocabulary slot (index 0) with built-in layers only.
            column = keras.layers.Reshape((len(categories) + 1, 1))(one_hot)
            column = keras.layers.Cropping1D((1, 0))(column)
            parts.append(keras.layers.Reshape((len(categories),))(column))
        encoded = (
            keras.layers.Concatenate(dtype="float32", name="encoded")(parts)
            if len(parts) > 1
            else keras.layers.Activation("linear", dtype="float32", name="encoded")(parts[0])
        )
        return keras.Model(inputs, encoded, name="tabular_preprocessor")

    def get_config(self) -> dict[str, Any]:
        """Return the columns and the fitted statistics as plain JSON-ready values."""
        config: dict[str, Any] = {
            "categorical": list(self.categorical),
            "continuous": list(self.continuous),
            "feature_names": self.feature_names,
        }
        if self.categories_ is not None and self.mean_ is not None and self.scale_ is not None:
            config.update(
                categories=self.categories_,
                mean=self.mean_.tolist(),
                scale=self.scale_.tolist(),
            )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TabularPreprocessor:
        """Rebuild a preprocessor, fitted or not, from `get_config()`."""
        preprocessor = cls(
            categorical=config["categorical"],
            continuous=config["continuous"],
            feature_names=config.get("feature_names"),
        )
        if "categories" in config:
            preprocessor.categories_ = {k: list(v) for k, v in config["categories"].items()}
            preprocessor.mean_ = np.asarray(config["mean"], dtype=np.float64)
            preprocessor.scale_ = np.asarray(config["scale"], dtype=np.float64)
        return preprocessor

    def _as_frame(self, X: Any) -> pd.DataFrame:
        """Return `X` as a DataFrame holding every configured column."""
        if isinstance(X, pd.DataFrame):
            frame = X
        else:
            array = np.asarray(X, dtype=object)
            if self.feature_names is None or array.ndim != 2:
                raise ValueError(
                    "Expected a DataFrame, or a 2-D array together with `feature_names` "
                    "given to the constructor. Received: X of type "
                    f"{type(X).__name__} with feature_names={self.feature_names}"
                )
            if array.shape[1] != len(self.feature_names):
                raise ValueError(
                    f"Expected X to have {len(self.feature_names)} columns "
                    f"(feature_names). Received: X.shape={array.shape}"
                )
            frame = pd.DataFrame(array, columns=self.feature_names)
        missing = [c for c in [*self.continuous, *self.categorical] if c not in frame.columns]
        if missing:
            raise ValueError(
                f"Expected X to have every configured column. Received: missing={missing}"
            )
        return frame


def _check_names(names: Sequence[str], argument: str) -> list[str]:
    """Return column names as a list, rejecting a bare string and duplicates."""
    if isinstance(names, str):
        raise TypeError(
            f"Expected `{argument}` to be a sequence of column names. "
            f"Received: {argument}={names!r}"
        )
    result = list(names)
    if len(set(result)) != len(result):
        raise ValueError(f"Expected distinct column names. Received: {argument}={result}")
    return result


def _continuous_values(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Return the continuous columns as a float64 array, rejecting missing values."""
    values = frame[columns].to_numpy(dtype=np.float64) if columns else np.zeros((len(frame), 0))
    bad = ~np.isfinite(values)
    if bad.any():
        where = sorted({columns[j] for j in np.flatnonzero(bad.any(axis=0))})
        raise ValueError(
            f"Expected finite values in the continuous columns. Received: NaN or inf in {where}"
        )
    return values


@dataclass(frozen=True, eq=False)
class FoldArrays:
    """Encoded training and test arrays of one split, with the preprocessor fitted on it.

    Attributes:
        x_train: encoded training features, `float32`.
        y_train: training labels, `int32`.
        s_train: training groups, `int32`.
        x_test: test features encoded with the training statistics, `float32`.
        y_test: test labels, `int32`.
        s_test: test groups, `int32`.
        preprocessor: the `TabularPreprocessor` fitted on the training rows.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    s_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    s_test: np.ndarray
    preprocessor: TabularPreprocessor


def train_test_arrays(dataset: Dataset, train: Any = None, test: Any = None) -> FoldArrays:
    """Encode a tabular dataset for `fit`, with a preprocessor fitted on the training rows.

    Args:
        dataset: a tabular `Dataset` (from `fetch_adult`, `fetch_compas`, `fetch_banks`).
        train: row indices (or a boolean mask) of the training rows. None, with `test`
            also None, uses the official split (`~dataset.is_test`, Adult only).
        test: row indices (or a boolean mask) of the test rows.

    Returns:
        The `FoldArrays`: `float32` features, `int32` labels and groups.

    Example:
    >>> from keras_sqnn.datasets import fetch_adult
    >>> arrays = train_test_arrays(fetch_adult())
    >>> arrays.x_train.shape, arrays.x_test.shape
    ((32561, 106), (16281, 106))
    """
    train_rows, test_rows = _split_rows(dataset, train, test)
    preprocessor = TabularPreprocessor.for_dataset(dataset)
    y = np.asarray(dataset.y, dtype=np.int32)
    s = np.asarray(dataset.s, dtype=np.int32)
    x_train = preprocessor.fit_transform(_take(dataset.X, train_rows))
    return FoldArrays(
        x_train=x_train,
        y_train=y[train_rows],
        s_train=s[train_rows],
        x_test=preprocessor.transform(_take(dataset.X, test_rows)),
        y_test=y[test_rows],
        s_test=s[test_rows],
        preprocessor=preprocessor,
    )


def _take(X: Any, rows: np.ndarray) -> Any:
    """Return the given rows of a DataFrame or of a 2-D array."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows]
    return np.asarray(X, dtype=object)[rows]


def _split_rows(dataset: Dataset, train: Any, test: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the training and test row indices, checking they are valid and disjoint."""
    if train is None and test is None:
        if dataset.is_test is None:
            raise ValueError(
                f"Expected `train` and `test` row indices: dataset {dataset.name!r} has no "
                "official test split. Received: train=None, test=None"
            )
        return np.flatnonzero(~dataset.is_test), np.flatnonzero(dataset.is_test)
    if train is None or test is None:
        raise ValueError(
            "Expected both `train` and `test`, or neither. "
            f"Received: train is None={train is None}, test is None={test is None}"
        )
    train_rows = _as_indices(train, len(dataset), "train")
    test_rows = _as_indices(test, len(dataset), "test")
    shared = np.intersect1d(train_rows, test_rows)
    if shared.size:
        raise ValueError(
            "Expected disjoint training and test rows. "
            f"Received: {shared.size} shared rows, e.g. {shared[:5].tolist()}"
        )
    return train_rows, test_rows


def _as_indices(rows: Any, n: int, name: str) -> np.ndarray:
    """Return row indices from indices or a boolean mask of length `n`."""
    array = np.asarray(rows)
    if array.dtype == bool:
        if array.shape != (n,):
            raise ValueError(
                f"Expected the boolean mask `{name}` to have shape ({n},). "
                f"Received: {name}.shape={array.shape}"
            )
        return np.flatnonzero(array)
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iu":
        raise ValueError(
            f"Expected `{name}` to be a non-empty 1-D array of row indices or a boolean mask. "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    if array.min() < 0 or array.max() >= n:
        raise ValueError(
            f"Expected `{name}` indices in [0, {n}). Received: min={array.min()}, max={array.max()}"
        )
    return array.astype(np.int64)
