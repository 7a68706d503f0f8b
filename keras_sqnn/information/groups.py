"""Per-group sufficient statistics of a batch, and the MI of a mixture from them."""

from __future__ import annotations

from keras import ops

from keras_sqnn.information.entropy import Tensor


def group_sums(values: Tensor, sensitive: Tensor, num_groups: int) -> tuple[Tensor, Tensor]:
    """Per-group example counts and per-group sums of ``values`` over the batch axis.

    These are the sufficient statistics of the sum-based estimators: summing them over
    replicas (or batches) gives the statistics of the union.

    Args:
        values: ``(batch, ...)`` float tensor.
        sensitive: ``(batch,)`` integer group ids in ``[0, num_groups)``.
        num_groups: number of groups K.

    Returns:
        ``(counts, sums)``: ``counts`` of shape ``(K,)`` and ``sums`` of shape ``(K, ...)``.
    """
    values = ops.convert_to_tensor(values, dtype="float32")
    one_hot = ops.one_hot(ops.reshape(sensitive, (-1,)), num_groups, dtype="float32")
    counts = ops.sum(one_hot, axis=0)
    flat = ops.reshape(values, (ops.shape(values)[0], -1))
    sums = ops.matmul(ops.transpose(one_hot), flat)
    sums = ops.reshape(sums, (num_groups, *values.shape[1:]))
    return counts, sums


def group_means(counts, sums):
    """``(n, p(s), mean over all, mean per group)`` from group sums (n floored at 1).

    An absent group has p(s) = 0 and a zero-vector mean: finite, so no NaN downstream.
    """
    total = ops.maximum(ops.sum(counts), 1.0)
    group_shape = (-1,) + (1,) * (len(sums.shape) - 1)
    conditional = sums / ops.reshape(ops.maximum(counts, 1.0), group_shape)
    return total, counts / total, ops.sum(sums, axis=0) / total, conditional


def same_group_mask(sensitive, reference_sensitive):
    """``(examples, references)`` boolean matrix: whether the two share a group id."""
    return ops.equal(ops.reshape(sensitive, (-1, 1)), ops.reshape(reference_sensitive, (1, -1)))


def mutual_information_from_group_sums(counts, sums, entropy):
    """``H(mean over all) - sum_s p(s) H(mean over group s)`` from group sums."""
    _, p_group, marginal, conditional = group_means(counts, sums)
    conditional_entropy = entropy(conditional)
    weights = ops.reshape(p_group, (-1,) + (1,) * (len(conditional_entropy.shape) - 1))
    return entropy(marginal) - ops.sum(weights * conditional_entropy, axis=0)
