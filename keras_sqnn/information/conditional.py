"""Conditional and intersectional group ids: I(T; S | Y) and several sensitive attributes.

Every estimator here computes ``I(T; G)`` for integer group ids ``G``. Two ways to give it
other groups:

* **Conditioning on the label**: ``I(T; S | Y) = I(T; (S, Y)) - I(T; Y)``, which by the chain
  rule also equals ``sum_y p(y) I(T; S | Y = y)``. The pair ``(s, y)`` is one group id,
  :func:`pair_ids`, so the same group statistics serve (equalized odds / separation of the
  representation, where ``I(T; S)`` asks for demographic parity / independence).
* **Intersections of several attributes** ``(S_1, ..., S_k)`` with ``g_1, ..., g_k`` values:
  one mixed-radix id, :func:`mixed_radix_ids`, ``s_1 + g_1 * (s_2 + g_2 * (...))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from keras import ops

from keras_sqnn.information.entropy import Tensor


def pair_ids(sensitive: Tensor, labels: Tensor, num_groups: int) -> Tensor:
    """The group id of the pair ``(s, y)``: ``y * num_groups + s``, in ``[0, K * C)``.

    Example:
        >>> from keras import ops
        >>> ops.convert_to_numpy(pair_ids([0, 1, 1], [0, 0, 2], 2)).tolist()
        [0, 1, 5]
    """
    sensitive = ops.cast(ops.convert_to_tensor(sensitive), "int32")
    labels = ops.cast(ops.convert_to_tensor(labels), "int32")
    return labels * num_groups + sensitive


def mixed_radix_ids(columns: Tensor, radices: Sequence[int]) -> Tensor:
    """One id per row of ``columns`` (``(n, k)`` ids, column i in ``[0, radices[i])``).

    ``columns[:, 0] + radices[0] * (columns[:, 1] + radices[1] * (...))``, in
    ``[0, prod(radices))``.

    Example:
        >>> from keras import ops
        >>> ops.convert_to_numpy(mixed_radix_ids([[0, 0], [1, 0], [0, 2], [1, 2]], (2, 3))).tolist()
        [0, 1, 4, 5]
    """
    columns = ops.cast(ops.convert_to_tensor(columns), "int32")
    if len(radices) == 1:
        return columns[:, 0]
    ids = ops.zeros_like(columns[:, 0])
    for index in reversed(range(len(radices))):
        ids = ids * radices[index] + columns[:, index]
    return ids


def conditional_mutual_information(
    estimate: Callable[[Tensor, int], Any],
    sensitive: Tensor,
    labels: Tensor,
    num_groups: int,
    num_classes: int,
) -> Any:
    """``I(T; S | Y) = I(T; (S, Y)) - I(T; Y)`` from an estimator of ``I(T; G)``.

    Args:
        estimate: ``estimate(group_ids, num_group_ids)``: ``I(T; G)`` of the batch for
            those ids (a closure over theta, the codes...).
        sensitive: ``(batch,)`` ids of S in ``[0, num_groups)``.
        labels: ``(batch,)`` class ids of Y in ``[0, num_classes)``.
        num_groups: number of values of S.
        num_classes: number of values of Y.

    Example:
        >>> import numpy as np
        >>> from keras_sqnn.information import exact_joint_mutual_information
        >>> theta = np.array([[0.0], [0.0], [1.0], [1.0]], "float32")  # T = Y
        >>> s, y = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])  # and S = Y
        >>> def estimate(ids, k):
        ...     return exact_joint_mutual_information(theta, ids, k)
        >>> float(estimate(s, 2)), float(conditional_mutual_information(estimate, s, y, 2, 2))
        (1.0, 0.0)
    """
    joint = estimate(pair_ids(sensitive, labels, num_groups), num_groups * num_classes)
    return joint - estimate(labels, num_classes)
