"""Argument checks shared across the package, with errors of the form "Expected ... Received: ...".

Each check returns the validated value (converted where it says so) or raises ``ValueError``
naming the argument: positive integers, 1-D arrays of equal length, scores, binary labels
and group labels. The metrics, the callbacks, the baselines and the experiments use them.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def as_python(value: Any) -> Any:
    """A NumPy scalar as the equivalent Python scalar (for readable error messages)."""
    return value.item() if isinstance(value, np.generic) else value


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) >= ``minimum``.

    Args:
        value: the argument to check.
        name: argument name used in error messages.
        minimum: the smallest value accepted.

    Returns:
        ``int(value)``.

    Example:
        >>> check_positive_int(3, "epochs")
        3
        >>> check_positive_int(0, "epochs")
        Traceback (most recent call last):
        ...
        ValueError: Expected `epochs` to be an integer >= 1. Received: epochs=0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"Expected `{name}` to be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def _summary(values: np.ndarray, limit: int = 5) -> str:
    """A short text showing a few values of an array, for error messages."""
    shown = ", ".join(repr(v) for v in values.ravel()[:limit].tolist())
    more = ", ..." if values.size > limit else ""
    return f"[{shown}{more}]"


def check_1d(values: ArrayLike, name: str) -> np.ndarray:
    """Return `values` as a non-empty 1-D NumPy array.

    A column vector of shape `(n, 1)` (for example the output of a Keras sigmoid unit) is
    flattened to shape `(n,)`; any other shape is rejected.

    Args:
        values: array-like of length `n`.
        name: argument name used in error messages.

    Returns:
        The values as a 1-D NumPy array.
    """
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"Expected `{name}` to be 1-D (shape (n,) or (n, 1)). "
            f"Received: {name} with shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"Expected `{name}` to be non-empty. Received: {name} with 0 elements")
    return array


def check_same_length(**arrays: np.ndarray) -> int:
    """Check that all arrays have the same length and return it.

    Args:
        **arrays: the arrays, keyed by their argument names.

    Returns:
        The common length.
    """
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        received = ", ".join(f"len({name})={n}" for name, n in lengths.items())
        raise ValueError(
            f"Expected {', '.join(lengths)} to have the same length. Received: {received}"
        )
    return next(iter(lengths.values()))


def check_scores(y_score: ArrayLike, name: str = "y_score") -> np.ndarray:
    """Return finite, real-valued scores as a 1-D float64 array.

    Args:
        y_score: array-like of scores.
        name: argument name used in error messages.

    Returns:
        The scores as a 1-D `float64` array.
    """
    array = check_1d(y_score, name)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"Expected `{name}` to hold real numbers. "
            f"Received: {name} with dtype {array.dtype}, values {_summary(array)}"
        )
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"Expected `{name}` to be finite (no NaN or infinity). "
            f"Received: {name} with {int(bad.sum())} non-finite values, "
            f"e.g. {name}[{int(np.flatnonzero(bad)[0])}]={array[bad][0]}"
        )
    return array


def check_unit_interval(y_score: np.ndarray, name: str = "y_score") -> np.ndarray:
    """Check that (already finite) scores lie in [0, 1], as probabilities do.

    Args:
        y_score: 1-D float array of scores.
        name: argument name used in error messages.

    Returns:
        `y_score`, unchanged.
    """
    low, high = float(y_score.min()), float(y_score.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"Expected `{name}` to be probabilities in [0, 1] (apply a sigmoid to logits). "
            f"Received: {name} with values in [{low}, {high}]"
        )
    return y_score


def check_binary_labels(y_true: ArrayLike, name: str = "y_true") -> np.ndarray:
    """Return binary labels (0/1 or booleans) as a 1-D int64 array of zeros and ones.

    Args:
        y_true: array-like of labels in {0, 1}.
        name: argument name used in error messages.

    Returns:
        The labels as a 1-D `int64` array.
    """
    array = check_1d(y_true, name)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"Expected `{name}` to hold binary labels in {{0, 1}}. "
            f"Received: {name} with dtype {array.dtype}, values {_summary(np.unique(array))}"
        )
    values = np.unique(array)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(
            f"Expected `{name}` to hold binary labels in {{0, 1}}. "
            f"Received: {name} with values {_summary(values)}"
        )
    return array.astype(np.int64)


def check_both_classes(y_true: np.ndarray, name: str = "y_true") -> np.ndarray:
    """Check that binary labels contain both a 0 and a 1.

    Args:
        y_true: 1-D array of zeros and ones.
        name: argument name used in error messages.

    Returns:
        `y_true`, unchanged.
    """
    if np.unique(y_true).size < 2:
        raise ValueError(
            f"Expected `{name}` to contain both classes 0 and 1. "
            f"Received: {name} with only the value {as_python(y_true[0])!r}"
        )
    return y_true


def encode_groups(
    sensitive_features: ArrayLike,
    name: str = "sensitive_features",
    *,
    min_groups: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Encode group labels (any hashable, sortable values) as integer codes.

    Args:
        sensitive_features: array-like of group labels, one per example.
        name: argument name used in error messages.
        min_groups: the fewest distinct groups accepted.

    Returns:
        A tuple `(codes, groups)`: `codes[i]` is the index of example `i`'s group in
        `groups`, the sorted distinct labels (as returned by `np.unique`).
    """
    import pandas as pd  # Imported here: `import keras_sqnn` does not need pandas.

    array = check_1d(sensitive_features, name)
    missing = np.asarray(pd.isna(array), dtype=bool)
    if missing.any():
        raise ValueError(
            f"Expected `{name}` to have no missing values. "
            f"Received: {name} with {int(missing.sum())} missing values (NaN or None)"
        )
    try:
        groups, codes = np.unique(array, return_inverse=True)
    except TypeError as error:
        raise ValueError(
            f"Expected `{name}` to hold mutually comparable group labels. "
            f"Received: {name} with values {_summary(array)}"
        ) from error
    if groups.size < min_groups:
        raise ValueError(
            f"Expected `{name}` to contain at least {min_groups} groups. "
            f"Received: {name} with {groups.size} group(s) {_summary(groups)}"
        )
    return codes.reshape(-1).astype(np.int64), groups


def group_index(groups: np.ndarray, label: Any, name: str) -> int:
    """Return the position of group `label` among the encoded `groups`.

    Args:
        groups: the sorted distinct labels returned by `encode_groups`.
        label: the group label to look up.
        name: argument name used in error messages.

    Returns:
        The index of `label` in `groups`.
    """
    matches = [i for i, group in enumerate(groups.tolist()) if group == label]
    if not matches:
        raise ValueError(
            f"Expected `{name}` to be one of the groups in `sensitive_features` "
            f"{_summary(groups, limit=10)}. Received: {name}={label!r}"
        )
    return matches[0]
