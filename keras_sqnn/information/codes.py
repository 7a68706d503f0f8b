"""The codes of a binary layer: all ``2**units`` of them, and their Bernoulli likelihoods."""

from __future__ import annotations

from keras import ops

from keras_sqnn.information.entropy import TINY, Tensor


def all_codes(units: int) -> Tensor:
    """All ``2**units`` binary codes as a ``(2**units, units)`` float32 tensor."""
    index = ops.arange(2**units, dtype="int32")
    shifts = ops.arange(units - 1, -1, -1, dtype="int32")
    bits = ops.right_shift(ops.expand_dims(index, 1), ops.expand_dims(shifts, 0))
    return ops.cast(ops.bitwise_and(bits, 1), "float32")


def code_log_likelihoods(codes: Tensor, theta: Tensor) -> Tensor:
    """``log p(codes_j | theta_b)`` under independent Bernoullis: a ``(n_codes, batch)`` matrix.

    Linear in the codes, so a straight-through gradient on the codes is well defined.
    """
    codes = ops.convert_to_tensor(codes, dtype="float32")
    theta = ops.convert_to_tensor(theta, dtype="float32")
    # A floor far below float32 resolution keeps saturated theta (exactly 0 or 1) finite
    # while changing no probability by more than 1e-30.
    log_p1 = ops.log(ops.maximum(theta, TINY))
    log_p0 = ops.log(ops.maximum(1.0 - theta, TINY))
    # sum_i t_i log p1 + (1 - t_i) log p0 = t . (log p1 - log p0) + sum_i log p0: one matmul.
    return ops.matmul(codes, ops.transpose(log_p1 - log_p0)) + ops.sum(log_p0, axis=1)[None, :]


def code_probabilities(theta: Tensor) -> Tensor:
    """``p(t | theta_b)`` for every code t: a ``(batch, 2**units)`` matrix (rows sum to 1)."""
    theta = ops.convert_to_tensor(theta, dtype="float32")
    codes = all_codes(theta.shape[-1])
    return ops.exp(ops.transpose(code_log_likelihoods(codes, theta)))
