"""The paper's ``BinaryBernoulli`` term: ``I(T_i; S)`` per unit and its sum over the units.

The sum ``sum_i I(T_i; S)`` is closed form and differentiable, but **not an upper bound on
I(T; S) in general**, contrary to the paper's lemma: the lemma needs the units to be
conditionally independent given S. With two fair independent bits and ``S = T1 XOR T2`` it
gives 0 bits while ``I(T; S) = 1`` bit. Treat it as a cheap surrogate.
"""

from __future__ import annotations

from keras import ops

from keras_sqnn.information.entropy import (
    Tensor,
    bernoulli_entropy,
    bernoulli_entropy_slope,
)
from keras_sqnn.information.groups import (
    group_means,
    group_sums,
    mutual_information_from_group_sums,
)


def per_unit_mutual_information_from_sums(counts: Tensor, theta_sums: Tensor) -> Tensor:
    """``I(T_i; S)`` per unit from :func:`group_sums` of ``theta``; shape ``(units,)``."""
    return mutual_information_from_group_sums(counts, theta_sums, bernoulli_entropy)


def bernoulli_mutual_information_from_sums(counts: Tensor, theta_sums: Tensor) -> Tensor:
    """``sum_i I(T_i; S)`` from :func:`group_sums` of ``theta``, with a closed-form gradient.

    The value of ``sum(per_unit_mutual_information_from_sums(counts, theta_sums))`` and the
    gradient autodiff would give it, in a handful of small ops instead of differentiating
    the entropies op by op: with ``mu_i`` the batch mean and ``mu_si`` the mean of group s,
    ``d/d theta_sums[s, i] = (h'(mu_i) - h'(mu_si)) / n`` for a group present in the batch
    and ``h'(mu_i) / n`` for an absent one. ``counts`` gets no gradient.
    """
    counts = ops.stop_gradient(ops.convert_to_tensor(counts, dtype="float32"))
    theta_sums = ops.convert_to_tensor(theta_sums, dtype="float32")
    theta_sums = ops.reshape(theta_sums, (ops.shape(theta_sums)[0], -1))  # (K, units)

    @ops.custom_gradient
    def mutual_information(theta_sums):
        total, p_group, marginal, conditional = group_means(counts, theta_sums)
        # Row 0: the batch mean of each unit; rows 1..K: the group means.
        means = ops.concatenate([marginal[None, :], conditional], axis=0)
        weights = ops.concatenate([ops.ones((1,)), -p_group], axis=0)
        value = ops.sum(ops.matmul(weights[None, :], bernoulli_entropy(means)))

        def gradient(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            slopes = bernoulli_entropy_slope(means)
            present = (counts > 0.0)[:, None]
            group_slopes = ops.where(present, slopes[1:], 0.0)
            return (slopes[:1] - group_slopes) * (upstream / total)

        return value, gradient

    return mutual_information(theta_sums)


def per_unit_mutual_information(theta: Tensor, sensitive: Tensor, num_groups: int) -> Tensor:
    """Per-unit ``I(T_i; S)`` in bits for each binary unit of a stochastic layer.

    ``I(T_i; S) = h(E[theta_i]) - sum_s p(s) h(E[theta_i | S = s])`` over the batch, with h the
    Bernoulli entropy (the paper's Eq. 5). A group absent from the batch contributes nothing.

    Args:
        theta: ``(batch, units)`` Bernoulli parameters.
        sensitive: ``(batch,)`` integer group ids.
        num_groups: number of groups K.

    Returns:
        ``(units,)`` float32 tensor, differentiable in ``theta``.

    Example:
        >>> import numpy as np
        >>> theta = np.array([[1.0], [0.0]], "float32")
        >>> float(per_unit_mutual_information(theta, np.array([0, 1]), 2)[0])
        1.0
    """
    counts, sums = group_sums(theta, sensitive, num_groups)
    return per_unit_mutual_information_from_sums(counts, sums)


def bernoulli_mutual_information(theta: Tensor, sensitive: Tensor, num_groups: int) -> Tensor:
    """The paper's ``BinaryBernoulli`` term ``sum_i I(T_i; S)`` in bits (a surrogate).

    Not an upper bound on the joint ``I(T; S)`` unless the units are conditionally
    independent given S (see the module docstring for the XOR counterexample). Equals
    ``sum(per_unit_mutual_information(...))`` with a closed-form gradient (fewer ops).
    """
    return bernoulli_mutual_information_from_sums(*group_sums(theta, sensitive, num_groups))
