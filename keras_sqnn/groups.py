"""Group ids of a sensitive attribute: encoding raw values, and checking ids on the host."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_sqnn import validation
from keras_sqnn.validation import check_1d


def encode_groups(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Integer group ids ``0 .. K - 1`` for a sensitive attribute, and the K categories.

    Accepts strings, booleans, integers, pandas categoricals (their categories, in order,
    including unused ones) and any 1-D array-like. Ids follow the sorted categories
    (``False < True``), so ``categories[ids[i]] == values[i]``; pass ``num_groups=len(categories)``
    to the stochastic layers. Apart from categoricals, this is the encoding the metrics use,
    :func:`keras_sqnn.validation.encode_groups`, for one column and with one group allowed.

    Args:
        values: one value per example, shape ``(n,)`` or ``(n, 1)``.

    Returns:
        ``(ids, categories)``: int32 ids of shape ``(n,)`` and the list of categories.

    Example:
        >>> ids, categories = encode_groups(["b", "a", "b", "c"])
        >>> ids.tolist(), categories
        ([1, 0, 1, 2], ['a', 'b', 'c'])
    """
    if hasattr(values, "cat") and hasattr(values.cat, "categories"):  # pandas categorical
        if values.isna().any():
            raise ValueError("Expected `values` without missing entries. Received: NaN or None")
        return values.cat.codes.to_numpy().astype("int32"), list(values.cat.categories)
    ids, categories = validation.encode_groups(check_1d(values, "values"), "values", min_groups=1)
    return ids.astype("int32"), categories.tolist()


def checked_group_ids(
    values: Any, num_groups: int | tuple[int, ...], *, argument: str = "sensitive"
) -> np.ndarray:
    """Check group ids on the host and return them as int32; raise a clear error if bad.

    Integer ids pass as they are; floats pass only if every value is integral (then they
    are cast); strings, booleans and other values raise, pointing to :func:`encode_groups`.
    With one attribute (``num_groups`` an int) the ids have shape ``(n,)`` or ``(n, 1)`` and
    lie in ``[0, num_groups)``; with ``num_groups=(g_1, ..., g_k)`` they have shape
    ``(n, k)`` (a 2-D array or a k-column DataFrame) and column i lies in ``[0, g_i)``.

    Returns:
        ``(n,)`` int32 ids for one attribute, ``(n, k)`` for several.

    Example:
        >>> checked_group_ids([[0, 2], [1, 0]], (2, 3)).tolist()
        [[0, 2], [1, 0]]
    """
    radices = (num_groups,) if isinstance(num_groups, int) else tuple(num_groups)
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1 and len(radices) == 1:
        array = array[:, 0]
    expected_ndim = 1 if len(radices) == 1 else 2
    if array.ndim != expected_ndim or (expected_ndim == 2 and array.shape[1] != len(radices)):
        shape = "(n,) or (n, 1)" if len(radices) == 1 else f"(n, {len(radices)})"
        raise ValueError(
            f"Expected `{argument}` of shape {shape}, one column per attribute "
            f"(num_groups={num_groups}). Received: {argument} with shape={array.shape}"
        )
    if array.dtype.kind == "f":
        fractional = array[~np.isfinite(array) | (array != np.round(array))]
        if fractional.size:
            raise ValueError(
                f"Expected `{argument}` to hold integer group ids. Received: float values "
                f"that are not integers, e.g. {sorted(set(fractional.tolist()))[:5]}. "
                "Encode groups with keras_sqnn.encode_groups(s)."
            )
        array = array.astype(np.int64)
    elif array.dtype.kind not in "iu":
        bounds = radices[0] if len(radices) == 1 else radices
        raise TypeError(
            f"Expected `{argument}` to hold integer group ids in [0, {bounds}). Received: "
            f"dtype={array.dtype}. Encode groups with keras_sqnn.encode_groups(s), which "
            "also returns the categories."
        )
    columns = [array] if len(radices) == 1 else [array[:, i] for i in range(len(radices))]
    for index, (column, radix) in enumerate(zip(columns, radices, strict=True)):
        bad = column[(column < 0) | (column >= radix)]
        if not bad.size:
            continue
        shown = sorted(set(bad.tolist()))[:10]
        if len(radices) == 1:
            raise ValueError(
                f"Expected `{argument}` values in [0, {radix}) (num_groups={num_groups}). "
                f"Received: {argument} values {shown}"
            )
        raise ValueError(
            f"Expected `{argument}` column {index} values in [0, {radix}) "
            f"(num_groups={num_groups}). Received: {argument}[:, {index}] values {shown}"
        )
    return array.astype("int32")
