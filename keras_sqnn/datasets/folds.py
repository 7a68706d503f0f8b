"""The paper's nested cross-validation: outer folds for testing, inner ones for tuning."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold


@dataclass(frozen=True, eq=False)
class OuterFold:
    """One outer fold: its training and test rows, and inner splits of the training rows.

    All indices are row indices of the whole dataset, sorted.

    Attributes:
        train: the outer training rows.
        test: the outer test rows.
        inner: `(train, validation)` row pairs that split `train`, for model selection.
    """

    train: np.ndarray
    test: np.ndarray
    inner: list[tuple[np.ndarray, np.ndarray]]


def strata(y: Any, s: Any) -> np.ndarray:
    """Return one stratum per `(y, s)` pair: `y * K + s` with `K = max(s) + 1`.

    An `s` with several columns (shape `(n, k)`, a DataFrame of several attributes) is
    first reduced to one id per combination of the columns, so the strata are the
    `(y, intersection)` pairs.

    Example:
    >>> strata([0, 0, 1, 1], [0, 1, 0, 1]).tolist()
    [0, 1, 2, 3]
    >>> strata([0, 0, 1, 1], [[0, 0], [0, 1], [0, 0], [1, 1]]).tolist()
    [0, 2, 4, 7]
    """
    y_array = _check_codes(y, "y")
    s_array = _intersection_ids(s)
    if y_array.shape != s_array.shape:
        raise ValueError(
            "Expected y and s to have the same length. "
            f"Received: len(y)={len(y_array)}, len(s)={len(s_array)}"
        )
    return y_array * (int(s_array.max()) + 1) + s_array


def nested_folds(
    y: Any, s: Any, *, n_outer: int = 3, n_inner: int = 3, seed: int = 0
) -> list[OuterFold]:
    """Split rows into the paper's outer x inner folds, stratified on `(y, s)`.

    The outer split is a `StratifiedKFold(n_outer, shuffle=True)` on the strata
    `y * K + s`; each outer training set is split again by a `StratifiedKFold(n_inner)`
    on its own strata. Everything is deterministic for a given `seed` (the inner splits
    use seeds drawn from `seed`). Fit preprocessors inside each training set, e.g. with
    `train_test_arrays(dataset, fold.train, fold.test)`.

    Args:
        y: labels, integers `>= 0`, shape `(n,)`.
        s: sensitive groups, integers `>= 0`, shape `(n,)`, or `(n, k)` for several
            attributes (stratified on their intersections).
        n_outer: number of outer folds (the paper: 3).
        n_inner: number of inner folds per outer training set (the paper: 3).
        seed: non-negative integer seed.

    Returns:
        `n_outer` `OuterFold`s; their test rows partition the `n` rows.

    Example:
    >>> folds = nested_folds([0, 1] * 18, [0] * 18 + [1] * 18, seed=0)
    >>> len(folds), len(folds[0].inner), len(folds[0].test)
    (3, 3, 12)
    """
    for name, value in (("n_outer", n_outer), ("n_inner", n_inner)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
            raise ValueError(f"Expected {name} to be an integer >= 2. Received: {name}={value!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={seed!r}")
    groups = strata(y, s)
    rows = np.arange(len(groups))
    outer = StratifiedKFold(n_splits=n_outer, shuffle=True, random_state=int(seed))
    inner_seeds = np.random.default_rng(int(seed)).integers(0, 2**31 - 1, size=n_outer)
    folds = []
    for (train, test), inner_seed in zip(outer.split(rows, groups), inner_seeds, strict=True):
        inner = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=int(inner_seed))
        pairs = [
            (train[fit], train[validation]) for fit, validation in inner.split(train, groups[train])
        ]
        folds.append(OuterFold(train=train, test=test, inner=pairs))
    return folds


def _intersection_ids(s: Any) -> np.ndarray:
    """Non-negative integer group ids, one per row; several columns become one mixed-radix id."""
    array = np.asarray(s)
    if array.ndim != 2:
        return _check_codes(array, "s")
    columns = [_check_codes(array[:, i], f"s[:, {i}]") for i in range(array.shape[1])]
    ids = np.zeros(array.shape[0], dtype=np.int64)
    for column in reversed(columns):
        ids = ids * (int(column.max()) + 1) + column
    return ids


def _check_codes(values: Any, name: str) -> np.ndarray:
    """Return non-negative integer codes as a 1-D int64 array."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"Expected `{name}` to be a non-empty 1-D array. Received: shape {array.shape}"
        )
    if array.dtype.kind not in "biu" or (array.dtype.kind == "i" and array.min() < 0):
        raise ValueError(
            f"Expected `{name}` to hold integers >= 0. "
            f"Received: dtype {array.dtype}, min {array.min()}"
        )
    return array.astype(np.int64)
