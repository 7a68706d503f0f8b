"""Joint ``I(T; S)`` of a whole layer: exact by enumerating the codes, or sampled above a width.

:func:`exact_joint_mutual_information` is exact for the batch mixture and differentiable
(small layers); :func:`joint_mutual_information` switches to
:func:`~keras_sqnn.information.sampled_joint_mutual_information` above
``max_exact_units`` units.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_sqnn.information.codes import code_probabilities
from keras_sqnn.information.entropy import Tensor, categorical_entropy
from keras_sqnn.information.groups import group_sums, mutual_information_from_group_sums
from keras_sqnn.information.sampled_joint import sampled_joint_mutual_information

# Largest layer for which the exact estimator enumerates all codes by default.
DEFAULT_MAX_EXACT_UNITS = 12


def exact_joint_mutual_information_from_sums(counts: Tensor, code_prob_sums: Tensor) -> Tensor:
    """Joint ``I(T; S)`` from :func:`group_sums` of the per-example code probabilities."""
    return mutual_information_from_group_sums(counts, code_prob_sums, categorical_entropy)


def exact_joint_mutual_information(theta: Tensor, sensitive: Tensor, num_groups: int) -> Tensor:
    """Joint ``I(T; S)`` in bits of the whole layer by enumerating all ``2**units`` codes.

    Exact for the batch mixture ``p(t | s) = mean_{b in s} prod_i Bernoulli(t_i; theta_bi)``
    and differentiable in ``theta``. Cost ``O(batch * 2**units * units)``: use it for small
    layers (by default up to 12 units), :func:`sampled_joint_mutual_information` otherwise.

    Example:
        >>> import numpy as np
        >>> theta = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], "float32")
        >>> s = np.array([0, 0, 1, 1])  # S = T1 XOR T2
        >>> round(float(exact_joint_mutual_information(theta, s, 2)), 6)
        1.0
    """
    counts, sums = group_sums(code_probabilities(theta), sensitive, num_groups)
    return exact_joint_mutual_information_from_sums(counts, sums)


def joint_mutual_information(
    theta: Tensor,
    sensitive: Tensor,
    num_groups: int,
    *,
    codes: Tensor | None = None,
    max_exact_units: int = DEFAULT_MAX_EXACT_UNITS,
) -> Tensor:
    """Joint ``I(T; S)`` in bits: exact enumeration up to ``max_exact_units`` units, sampled above.

    Args:
        theta: ``(batch, units)`` Bernoulli parameters.
        sensitive: ``(batch,)`` integer group ids.
        num_groups: number of groups K.
        codes: sampled codes for the Monte-Carlo estimate; drawn with numpy-free
            ``keras.random`` if omitted and the layer is too wide for enumeration.
        max_exact_units: widest layer enumerated exactly.
    """
    units = theta.shape[-1]
    if units <= max_exact_units:
        return exact_joint_mutual_information(theta, sensitive, num_groups)
    if codes is None:
        theta32 = ops.convert_to_tensor(theta, dtype="float32")
        codes = ops.cast(keras.random.uniform(ops.shape(theta32)) < theta32, "float32")
    return sampled_joint_mutual_information(theta, codes, sensitive, num_groups)
