"""The paper's ``BinaryMI``: plug-in (histogram) estimates from observed binary codes.

A monitor, not a loss: counts have no gradient.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

from keras_sqnn.information.entropy import LN2, Tensor
from keras_sqnn.information.groups import same_group_mask

# Codes from the ``a + stop_gradient(q - a)`` form of straight-through estimators miss 0 and 1
# by float32 rounding (0.99999994): values this close are rounded; others are an error.
CODE_TOLERANCE = 1e-3


def counting_mutual_information(codes: Tensor, sensitive: Tensor, num_groups: int) -> Tensor:
    """The paper's ``BinaryMI`` plug-in estimate of ``I(T; S)`` from observed binary codes.

    Counts how often each observed code occurs overall and within each group (a histogram
    over codes, computed with a ``(batch, batch)`` code-equality matrix: static shapes, no
    ``unique``). Biased upwards when codes are rarely repeated; needs exponentially many
    samples in the number of units. No gradient: use it to monitor and report.

    ``codes`` must be 0/1; values within ``CODE_TOLERANCE`` (1e-3) of 0 or 1 are rounded to
    them, any other value is an error.

    Example:
        >>> import numpy as np
        >>> codes = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], "float32")
        >>> round(float(counting_mutual_information(codes, np.array([0, 0, 1, 1]), 2)), 6)
        1.0
    """
    del num_groups
    codes = _binary_codes(codes)
    equal = ops.equal(_hamming_distances(codes), 0.0)
    same_group = same_group_mask(sensitive, sensitive)
    batch = ops.cast(ops.shape(codes)[0], "float32")
    code_count = ops.sum(ops.cast(equal, "float32"), axis=1)
    code_count_in_group = ops.sum(ops.cast(ops.logical_and(equal, same_group), "float32"), axis=1)
    group_size = ops.sum(ops.cast(same_group, "float32"), axis=1)
    terms = ops.log(code_count_in_group / group_size) - ops.log(code_count / batch)
    return ops.mean(terms) / LN2


def counting_entropy(codes: Tensor) -> Tensor:
    """Plug-in entropy ``H(T)`` in bits of the observed binary codes (histogram estimate).

    ``codes`` as in :func:`counting_mutual_information`.
    """
    codes = _binary_codes(codes)
    equal = ops.equal(_hamming_distances(codes), 0.0)
    batch = ops.cast(ops.shape(codes)[0], "float32")
    code_count = ops.sum(ops.cast(equal, "float32"), axis=1)
    return -ops.mean(ops.log(code_count / batch)) / LN2


def _binary_codes(codes: Tensor) -> Tensor:
    """``codes`` as float32 ``(batch, units)`` zeros and ones, rounded within the tolerance."""
    codes = ops.convert_to_tensor(codes, dtype="float32")
    codes = ops.reshape(codes, (ops.shape(codes)[0], -1))
    rounded = ops.clip(ops.round(codes), 0.0, 1.0)
    binary = ops.all(ops.abs(codes - rounded) <= CODE_TOLERANCE)
    message = (
        "Expected `codes` of zeros and ones (values within "
        f"{CODE_TOLERANCE} of 0 or 1 are rounded)."
    )
    if tf.executing_eagerly():
        if not bool(binary):
            values = ops.convert_to_numpy(codes)
            far = values[np.abs(values - np.clip(np.round(values), 0, 1)) > CODE_TOLERANCE]
            raise ValueError(f"{message} Received: values such as {sorted(set(far.tolist()))[:5]}")
        return rounded
    with tf.control_dependencies([tf.debugging.assert_equal(binary, True, message=message)]):
        return tf.identity(rounded)


def _hamming_distances(codes):
    return ops.matmul(codes, ops.transpose(1.0 - codes)) + ops.matmul(
        1.0 - codes, ops.transpose(codes)
    )
