"""The paper's ``BinaryMI``: plug-in (histogram) estimates from observed binary codes.

A monitor, not a loss: counts have no gradient.
"""

from __future__ import annotations

from keras import ops

from keras_sqnn.information.entropy import LN2, Tensor
from keras_sqnn.information.groups import same_group_mask


def counting_mutual_information(codes: Tensor, sensitive: Tensor, num_groups: int) -> Tensor:
    """The paper's ``BinaryMI`` plug-in estimate of ``I(T; S)`` from observed binary codes.

    Counts how often each observed code occurs overall and within each group (a histogram
    over codes, computed with a ``(batch, batch)`` code-equality matrix: static shapes, no
    ``unique``). Biased upwards when codes are rarely repeated; needs exponentially many
    samples in the number of units. No gradient: use it to monitor and report.

    Example:
        >>> import numpy as np
        >>> codes = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], "float32")
        >>> round(float(counting_mutual_information(codes, np.array([0, 0, 1, 1]), 2)), 6)
        1.0
    """
    del num_groups
    codes = ops.convert_to_tensor(codes, dtype="float32")
    codes = ops.reshape(codes, (ops.shape(codes)[0], -1))
    equal = ops.equal(_hamming_distances(codes), 0.0)
    same_group = same_group_mask(sensitive, sensitive)
    batch = ops.cast(ops.shape(codes)[0], "float32")
    code_count = ops.sum(ops.cast(equal, "float32"), axis=1)
    code_count_in_group = ops.sum(ops.cast(ops.logical_and(equal, same_group), "float32"), axis=1)
    group_size = ops.sum(ops.cast(same_group, "float32"), axis=1)
    terms = ops.log(code_count_in_group / group_size) - ops.log(code_count / batch)
    return ops.mean(terms) / LN2


def counting_entropy(codes: Tensor) -> Tensor:
    """Plug-in entropy ``H(T)`` in bits of the observed binary codes (histogram estimate)."""
    codes = ops.convert_to_tensor(codes, dtype="float32")
    codes = ops.reshape(codes, (ops.shape(codes)[0], -1))
    equal = ops.equal(_hamming_distances(codes), 0.0)
    batch = ops.cast(ops.shape(codes)[0], "float32")
    code_count = ops.sum(ops.cast(equal, "float32"), axis=1)
    return -ops.mean(ops.log(code_count / batch)) / LN2


def _hamming_distances(codes):
    return ops.matmul(codes, ops.transpose(1.0 - codes)) + ops.matmul(
        1.0 - codes, ops.transpose(codes)
    )
