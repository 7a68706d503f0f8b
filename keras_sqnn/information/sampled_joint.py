"""Joint ``I(T; S)`` estimated from one sampled code per example, with a closed-form gradient.

Given the batch, the mean of ``log2 p(t_j | s_j) - log2 p(t_j)`` over sampled codes is
unbiased for the batch-mixture ``I(T; S)`` (the mixture densities are exact; only the codes
are sampled). Cost ``O(batch**2 * units)`` with static shapes. Its gradient flows through
the mixture densities and, when the codes carry a straight-through gradient, through the
codes.
"""

from __future__ import annotations

from keras import ops

from keras_sqnn.information.codes import code_log_likelihoods
from keras_sqnn.information.entropy import LN2, TINY, Tensor
from keras_sqnn.information.groups import same_group_mask


def _masked_logsumexp(values, mask, axis):
    very_negative = ops.cast(-1e30, values.dtype)
    masked = ops.where(mask, values, very_negative)
    return ops.logsumexp(masked, axis=axis)


def sampled_joint_terms(
    codes: Tensor,
    sensitive: Tensor,
    reference_theta: Tensor,
    reference_sensitive: Tensor,
    num_groups: int,
) -> Tensor:
    """Per-code terms ``log2 p(t_j | s_j) - log2 p(t_j)`` against a reference batch.

    ``p`` are the mixtures over the reference batch (which must contain the examples that drew
    the codes); the mean of the terms over the codes estimates ``I(T; S)``.
    """
    del num_groups  # The mask compares group ids directly: no one-hot of size K needed.
    log_lik = code_log_likelihoods(codes, reference_theta)  # (codes, reference)
    same_group = same_group_mask(sensitive, reference_sensitive)
    group_size = ops.sum(ops.cast(same_group, "float32"), axis=1)
    batch = ops.cast(ops.shape(reference_theta)[0], "float32")
    log_conditional = _masked_logsumexp(log_lik, same_group, axis=1) - ops.log(
        ops.maximum(group_size, 1.0)
    )
    log_marginal = ops.logsumexp(log_lik, axis=1) - ops.log(batch)
    return (log_conditional - log_marginal) / LN2


def logits_from_probabilities(theta: Tensor) -> Tensor:
    """``log(theta) - log(1 - theta)``, with exactly 0 and 1 kept finite (floored at 1e-30)."""
    theta = ops.convert_to_tensor(theta, dtype="float32")
    return ops.log(ops.maximum(theta, TINY)) - ops.log(ops.maximum(1.0 - theta, TINY))


def sampled_joint_total(
    codes: Tensor,
    sensitive: Tensor,
    reference_logits: Tensor,
    reference_sensitive: Tensor,
    num_groups: int,
    *,
    code_logits: Tensor | None = None,
) -> Tensor:
    """The sum over the codes of :func:`sampled_joint_terms`, with a closed-form gradient.

    The value of ``sum(sampled_joint_terms(codes, sensitive, sigmoid(reference_logits),
    reference_sensitive, num_groups))`` (exact also where ``sigmoid`` rounds to 0 or 1, which
    that function floors) and its gradient with respect to ``codes`` and
    ``reference_logits``. Works on the ``(reference, code)`` log-likelihood matrix
    ``L[r, j] = t_j . z_r - sum_i softplus(z_ri)`` (one matmul) with one exponential and
    per-group sums (a matmul with the one-hot groups). The exponentials are scaled by each
    code's log-likelihood under the example that drew it, folded into the matmul; when a
    group's sum would overflow (a code over ``1e30`` times likelier under that group's
    examples than under its own) or a code's own group's sum underflow, the batch is redone
    with per-group maxima. Backward: ``d total / d L`` is the difference of the within-group
    and overall posteriors of the references divided by ln 2, and
    ``dL[r, j] / dz_r = t_j - sigmoid(z_r)``: three matmuls.

    Args:
        codes: ``(codes, units)`` binary codes.
        sensitive: ``(codes,)`` group ids of the codes, in ``[0, num_groups)``.
        reference_logits: ``(references, units)`` pre-activations ``z``, ``theta = sigmoid(z)``.
        reference_sensitive: ``(references,)`` group ids in ``[0, num_groups)``.
        num_groups: number of groups K.
        code_logits: ``(codes, units)`` logits of the examples that drew the codes (used only
            to scale the exponentials); None when they are the references, row for row.

    Returns:
        Scalar float32 tensor, in bits; NaN if an id lies outside ``[0, num_groups)``.
    """
    return _sampled_joint_total(
        codes, sensitive, reference_logits, reference_sensitive, num_groups, code_logits, False
    )


def _sampled_joint_total(
    codes, sensitive, reference, reference_sensitive, num_groups, code_logits, from_theta
):
    """:func:`sampled_joint_total` of reference logits, or of reference theta if ``from_theta``.

    From theta, the gradient goes to theta as autodiff of the theta formula gives it
    (``d/d log theta`` and ``d/d log(1 - theta)`` each from its own matmul, divided by theta
    and 1 - theta): going through the logits would lose precision where theta is within
    ~1e-6 of 0 or 1.
    """
    codes = ops.convert_to_tensor(codes, dtype="float32")
    reference = ops.convert_to_tensor(reference, dtype="float32")
    code_groups = _one_hot_columns(sensitive, num_groups)  # (K, codes)
    reference_ids = ops.reshape(reference_sensitive, (-1,))
    groups_by_reference = _one_hot_columns(reference_ids, num_groups)  # (K, references)
    # The same one-hot codes as rows (a second one-hot op costs less than a transpose).
    reference_groups = ops.one_hot(reference_ids, num_groups, dtype="float32")
    group_sizes = ops.sum(groups_by_reference, axis=1)
    present = (group_sizes > 0.0)[:, None]
    log_shares = ops.log(ops.maximum(group_sizes, 1.0)) - ops.log(
        ops.cast(ops.shape(reference)[0], "float32")
    )
    ids_in_range = ops.logical_and(
        ops.equal(ops.sum(code_groups), ops.cast(ops.shape(codes)[0], "float32")),
        ops.equal(ops.sum(group_sizes), ops.cast(ops.shape(reference)[0], "float32")),
    )
    ones = ops.ones_like(codes[:, :1])
    if code_logits is not None:
        code_logits = ops.stop_gradient(ops.convert_to_tensor(code_logits, dtype="float32"))

    @ops.custom_gradient
    def total(codes, reference):
        # The hand-written gradient below is the only one: the forward ops are kept out of
        # autodiff (a tape around a tf.function, or under XLA, would otherwise differentiate
        # the cond below, whose unused branch holds inf * 0 and tensors of unknown shape).
        codes, reference = ops.stop_gradient(codes), ops.stop_gradient(reference)
        logits = logits_from_probabilities(reference) if from_theta else reference
        normalizers = ops.sum(ops.softplus(logits), axis=1, keepdims=True)
        # Each code's log-likelihood under its own example: the scale of its exponentials.
        if code_logits is None:
            own = ops.sum(codes * logits, axis=1, keepdims=True) - normalizers
        else:
            own = ops.sum(codes * code_logits - ops.softplus(code_logits), axis=1, keepdims=True)
        # [z_r, -sum softplus(z_r), 1] . [t_j, 1, -own_j] = L[r, j] - own_j
        codes_one_own = ops.concatenate([codes, ones, -own], axis=1)
        references = ops.concatenate([logits, -normalizers, ops.ones_like(normalizers)], axis=1)
        scaled_log_lik = ops.matmul(references, ops.transpose(codes_one_own))
        weights = ops.exp(scaled_log_lik)
        sums = ops.matmul(groups_by_reference, weights)  # (K, codes)
        own_group_sums = ops.sum(code_groups * sums, axis=0)
        # `all` of comparisons, so that a NaN sum (inf * 0 in the one-hot matmul) fails too
        # (XLA's max and min skip NaN). With an id out of range the value is NaN anyway.
        own_scale_fits = ops.logical_or(
            ops.logical_and(ops.all(sums < 1e30), ops.all(own_group_sums >= 1e-20)),
            ops.logical_not(ids_in_range),
        )

        def own_scale():
            return weights, ops.where(present, ops.reshape(own, (1, -1)), _VERY_NEGATIVE), sums

        def per_group_scale():
            # L itself (not scaled_log_lik + own, which loses float32 precision when `own`
            # is far off, e.g. wrong code_logits).
            codes_one_zero = ops.concatenate([codes, ones, ops.zeros_like(ones)], axis=1)
            log_lik = ops.matmul(references, ops.transpose(codes_one_zero))
            group_max = ops.segment_max(log_lik, reference_ids, num_segments=num_groups)
            group_max = ops.where(present, group_max, _VERY_NEGATIVE)
            group_weights = ops.exp(log_lik - ops.matmul(reference_groups, group_max))
            return group_weights, group_max, ops.matmul(groups_by_reference, group_weights)

        weights, shifts, sums = ops.cond(own_scale_fits, own_scale, per_group_scale)
        # log sum_{r in group k} exp(L[r, j]). An absent group's entry stays very negative;
        # a sum that underflowed (a group far less likely than the code's own) is floored.
        log_group = shifts + ops.log(ops.maximum(sums, _SMALLEST_SUM))
        # (`initial` only lets an empty batch through.)
        peak = ops.max(log_group, axis=0, initial=_VERY_NEGATIVE)
        log_marginal = peak + ops.log(ops.sum(ops.exp(log_group - peak), axis=0))
        log_conditional = ops.sum(code_groups * log_group, axis=0)
        terms = log_conditional - log_marginal - ops.matmul(log_shares[None, :], code_groups)[0]
        value = ops.where(ids_in_range, ops.sum(terms) / LN2, float("nan"))

        def gradient(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            # d value / d L[r, j] = weights[r, j] * per_group[group of r, j]
            per_group = (
                code_groups / ops.maximum(sums, _SMALLEST_SUM) - ops.exp(shifts - log_marginal)
            ) * (upstream / LN2)
            d_log_lik = weights * ops.matmul(reference_groups, per_group)
            d_codes = ops.matmul(ops.transpose(d_log_lik), logits)
            units = ops.shape(codes)[1]
            if from_theta:
                # L = t . log theta + (1 - t) . log(1 - theta): both parts in one matmul.
                d_log_p = ops.matmul(d_log_lik, ops.concatenate([codes, 1.0 - codes], axis=1))
                return d_codes, d_log_p[:, :units] * _floored_reciprocal(reference) - (
                    d_log_p[:, units:] * _floored_reciprocal(1.0 - reference)
                )
            # One matmul: [sum_j d[r, j] t_j, sum_j d[r, j]] (the last column is not used).
            d_references = ops.matmul(d_log_lik, codes_one_own)
            d_logits = d_references[:, :units] - d_references[:, units : units + 1] * (
                ops.sigmoid(logits)
            )
            return d_codes, d_logits

        return value, gradient

    return total(codes, reference)


_VERY_NEGATIVE = -1e30
# A floor for the log of a sum that underflowed: about float32's smallest normal number.
_SMALLEST_SUM = 1e-37


def _one_hot_columns(ids, num_groups):
    """``(num_groups, n)`` float32: column j is the one-hot code of ``ids[j]``."""
    return ops.one_hot(ops.reshape(ids, (-1,)), num_groups, axis=0, dtype="float32")


def _floored_reciprocal(x):
    """``1 / x`` where ``x >= 1e-30``, else 0: autodiff's derivative of ``log(max(x, 1e-30))``."""
    return ops.cast(x >= TINY, x.dtype) / ops.maximum(x, TINY)


def sampled_joint_total_from_theta(
    codes: Tensor,
    sensitive: Tensor,
    reference_theta: Tensor,
    reference_sensitive: Tensor,
    num_groups: int,
    *,
    code_theta: Tensor | None = None,
) -> Tensor:
    """:func:`sampled_joint_total` of Bernoulli parameters instead of logits.

    The gradient goes to ``reference_theta`` (and ``codes``) as autodiff of
    ``sum(sampled_joint_terms(...))`` gives it, including where theta is exactly 0 or 1.
    Prefer the logits form when the logits are at hand (a layer's pre-activations): it is
    exact where theta rounds to 0 or 1 and its backward matmul is half as wide.
    """
    code_logits = None if code_theta is None else logits_from_probabilities(code_theta)
    return _sampled_joint_total(
        codes, sensitive, reference_theta, reference_sensitive, num_groups, code_logits, True
    )


def sampled_joint_mutual_information(
    theta: Tensor,
    codes: Tensor,
    sensitive: Tensor,
    num_groups: int,
    *,
    logits: Tensor | None = None,
) -> Tensor:
    """Monte-Carlo joint ``I(T; S)`` in bits from one sampled code per example.

    ``I = mean_j [log p(t_j | s_j) - log p(t_j)]`` with ``t_j ~ p(t | x_j)`` and the exact
    batch mixtures ``p(t | s)`` and ``p(t)``. Given the batch this is unbiased for the
    batch-mixture MI that :func:`exact_joint_mutual_information` computes; its variance
    shrinks as ``1 / batch``. Cost ``O(batch**2 * units)``, static shapes (XLA/TPU friendly).

    Gradient: with the codes held fixed, the gradient through the mixture densities has
    expectation zero (the score-function part of the true gradient is missing). Pass codes
    that carry a straight-through gradient (the layer's training output) so the gradient
    reaches ``theta`` (or ``logits``) through the codes as well; this is the same
    straight-through approximation the rest of the network is trained with.

    Args:
        theta: ``(batch, units)`` Bernoulli parameters.
        codes: ``(batch, units)`` binary codes, ``codes[j] ~ Bernoulli(theta[j])``.
        sensitive: ``(batch,)`` integer group ids in ``[0, num_groups)``.
        num_groups: number of groups K.
        logits: the pre-activations ``z`` with ``theta = sigmoid(z)``, if known: then the
            likelihoods and the gradient (with respect to ``logits``) come from them, exact
            even where ``theta`` rounds to 0 or 1, and ``theta`` is not used.

    Returns:
        Scalar float32 tensor; NaN if an id lies outside ``[0, num_groups)``.
    """
    count = ops.cast(ops.shape(codes)[0], "float32")
    if logits is None:
        total = sampled_joint_total_from_theta(codes, sensitive, theta, sensitive, num_groups)
    else:
        total = sampled_joint_total(codes, sensitive, logits, sensitive, num_groups)
    return total / ops.maximum(count, 1.0)  # 0 for an empty batch
