"""Argument checks shared across the package, with errors of the form "Expected ... Received: ...".

Each check returns the validated value (converted where it says so) or raises ``ValueError``
naming the argument: positive integers, 1-D arrays of equal length, scores, binary labels
and group labels. The metrics, the callbacks, the baselines and the experiments use them.
:func:`resolve_sensitive` takes S from ``sensitive_features=`` or, deprecated, from a
call's former argument ``s``.
"""

from __future__ import annotations

import numbers
import warnings
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


LEGACY_S_REMOVAL = "0.2"
"""The release that drops the deprecated spellings of S (``s``) in the NumPy-level API."""


def resolve_sensitive(
    sensitive_features: Any, legacy: Any, *, call: str, legacy_name: str = "s"
) -> Any:
    """The sensitive attribute S of a call, given as ``sensitive_features=`` or by its old name.

    The package spells S as fairlearn does, a keyword-only ``sensitive_features``. Functions
    that used to take it as ``s`` keep that slot for one release: a value there is returned
    with a ``DeprecationWarning`` that shows the new call.

    Args:
        sensitive_features: what the caller passed as ``sensitive_features`` (None if not).
        legacy: what the caller passed in the deprecated slot ``legacy_name`` (None if not).
        call: the call in the new spelling, shown in messages, e.g.
            ``"evaluate_fairness(model, x, y, sensitive_features=s)"``.
        legacy_name: the deprecated argument's name.

    Returns:
        ``sensitive_features``, or ``legacy`` (with the warning).

    Raises:
        TypeError: when both or neither are given.

    Example:
        >>> resolve_sensitive([0, 1], None, call="f(sensitive_features=s)")
        [0, 1]
        >>> resolve_sensitive([0, 1], [0, 1], call="f(sensitive_features=s)")
        Traceback (most recent call last):
        ...
        TypeError: Expected S once, as `sensitive_features=`: ... Received: both ...
    """
    function = call.split("(", 1)[0]
    if legacy is None:
        if sensitive_features is None:
            raise TypeError(
                f"Expected the sensitive attribute S of {function}() as `sensitive_features=`:"
                f" `{call}`. Received: sensitive_features=None"
            )
        return sensitive_features
    if sensitive_features is not None:
        raise TypeError(
            f"Expected S once, as `sensitive_features=`: `{call}`. "
            f"Received: both sensitive_features and {legacy_name} (deprecated)"
        )
    warnings.warn(
        f"Pass S as `sensitive_features=`: `{call}`. The argument `{legacy_name}` is "
        f"deprecated and will be removed in {LEGACY_S_REMOVAL}.",
        DeprecationWarning,
        stacklevel=3,
    )
    return legacy


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


def sensitive_columns(
    sensitive_features: Any, name: str = "sensitive_features"
) -> list[np.ndarray]:
    """The columns of a sensitive attribute: one for shape `(n,)` or `(n, 1)`, k for `(n, k)`.

    Accepts 1-D array-likes, 2-D arrays and pandas DataFrames (one column per attribute).

    Args:
        sensitive_features: one group label per example, or one row of k labels.
        name: argument name used in error messages.

    Returns:
        The k non-empty 1-D columns, of equal length.

    Example:
        >>> [column.tolist() for column in sensitive_columns([[0, "a"], [1, "b"]])]
        [['0', '1'], ['a', 'b']]
    """
    if hasattr(sensitive_features, "columns") and hasattr(sensitive_features, "iloc"):
        frame = sensitive_features
        if frame.shape[1] == 0:
            raise ValueError(
                f"Expected `{name}` to have at least one column. Received: {name} with 0 columns"
            )
        columns = [frame.iloc[:, i].to_numpy() for i in range(frame.shape[1])]
        return [check_1d(column, f"{name}[:, {i}]") for i, column in enumerate(columns)]
    array = np.asarray(sensitive_features)
    if array.ndim != 2 or array.shape[1] == 1:
        return [check_1d(array, name)]
    if array.shape[1] == 0 or array.shape[0] == 0:
        raise ValueError(
            f"Expected `{name}` of shape (n,) or (n, k) with n, k > 0. "
            f"Received: {name} with shape {array.shape}"
        )
    return [array[:, i] for i in range(array.shape[1])]


def _encode_column(values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes and sorted distinct labels of one column of group labels."""
    import pandas as pd  # Imported here: `import keras_sqnn` does not need pandas.

    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing.any():
        raise ValueError(
            f"Expected `{name}` to have no missing values. "
            f"Received: {name} with {int(missing.sum())} missing values (NaN or None)"
        )
    try:
        groups, codes = np.unique(values, return_inverse=True)
    except TypeError as error:
        raise ValueError(
            f"Expected `{name}` to hold mutually comparable group labels. "
            f"Received: {name} with values {_summary(values)}"
        ) from error
    return codes.reshape(-1).astype(np.int64), groups


def intersection_codes(
    column_codes: list[np.ndarray], column_sizes: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the observed combinations of several columns of codes, in lexicographic order.

    Args:
        column_codes: k 1-D arrays of codes, column i in `[0, column_sizes[i])`.
        column_sizes: the number of values of each column.

    Returns:
        `(codes, combinations)`: one code per example in `[0, m)`, and the `(m, k)` array
        of the m observed combinations of column codes, sorted (first column first); empty
        combinations get no code.
    """
    combined = np.zeros_like(column_codes[0], dtype=np.int64)
    for codes, size in zip(column_codes, column_sizes, strict=True):
        combined = combined * size + codes  # first column most significant: sorted tuples
    observed, codes = np.unique(combined, return_inverse=True)
    digits = np.stack(np.unravel_index(observed, column_sizes), axis=1).astype(np.int64)
    return codes.reshape(-1).astype(np.int64), digits


def encode_groups(
    sensitive_features: Any,
    name: str = "sensitive_features",
    *,
    min_groups: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Encode group labels (any hashable, sortable values) as integer codes.

    With several columns (shape `(n, k)` or a k-column DataFrame), the groups are the
    observed intersections: one group per combination of the k labels that occurs, labelled
    by the tuple of labels (a combination with no example is no group). The public
    :func:`keras_sqnn.encode_groups` is this encoding for one column (int32 ids and a list of
    categories, one group allowed, pandas categoricals keeping their unused categories).

    Args:
        sensitive_features: array-like of group labels, one per example (shape `(n,)`),
            or one row of k labels per example.
        name: argument name used in error messages.
        min_groups: the fewest distinct groups accepted.

    Returns:
        A tuple `(codes, groups)`: `codes[i]` is the index of example `i`'s group in
        `groups`, the sorted distinct labels (as returned by `np.unique`; tuples of Python
        scalars for several columns).

    Example:
        >>> codes, groups = encode_groups([[1, "b"], [0, "a"], [1, "b"]])
        >>> codes.tolist(), groups.tolist()
        ([1, 0, 1], [('0', 'a'), ('1', 'b')])
    """
    columns = sensitive_columns(sensitive_features, name)
    if len(columns) == 1:
        codes, groups = _encode_column(columns[0], name)
    else:
        check_same_length(**{f"{name}[:, {i}]": column for i, column in enumerate(columns)})
        encoded = [_encode_column(column, f"{name}[:, {i}]") for i, column in enumerate(columns)]
        codes, digits = intersection_codes(
            [column_codes for column_codes, _ in encoded],
            [labels.size for _, labels in encoded],
        )
        groups = np.empty(digits.shape[0], dtype=object)
        groups[:] = [
            tuple(as_python(labels[d]) for (_, labels), d in zip(encoded, row, strict=True))
            for row in digits
        ]
    if groups.size < min_groups:
        raise ValueError(
            f"Expected `{name}` to contain at least {min_groups} groups. "
            f"Received: {name} with {groups.size} group(s) {_summary(groups)}"
        )
    return codes, groups


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
