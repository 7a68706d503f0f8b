"""Information estimators for stochastic binary layers, as small pure functions.

All quantities are in **bits**. ``theta`` holds Bernoulli parameters, one row per example
and one column per binary unit (shape ``(batch, units)``); ``sensitive`` holds the sensitive
attribute as integers in ``[0, num_groups)``. The batch is the empirical distribution of X,
so a layer's code T is the mixture ``p(t) = mean_b prod_i Bernoulli(t_i; theta_bi)`` and
``p(t | s)`` the same mixture over the examples of group ``s``.

Four estimators:

* :func:`per_unit_mutual_information` / :func:`bernoulli_mutual_information`, the paper's
  ``BinaryBernoulli`` objective ``sum_i I(T_i; S)``, closed form and differentiable.
  **It is not an upper bound on I(T; S) in general**, contrary to the paper's lemma: the
  lemma needs the units to be conditionally independent given S. With two fair independent
  bits and ``S = T1 XOR T2`` it gives 0 bits while ``I(T; S) = 1`` bit. Treat it as a cheap
  surrogate.
* :func:`exact_joint_mutual_information`, ``I(T; S)`` of the whole layer by enumerating the
  ``2**units`` codes: exact for the batch mixture and differentiable (small layers).
* :func:`sampled_joint_mutual_information`, the same quantity estimated from one sampled
  code per example in ``O(batch**2 * units)`` with static shapes. Given the batch it is
  unbiased for the batch-mixture ``I(T; S)`` (the mixture densities are exact; only the
  codes are sampled). Its gradient flows through the mixture densities and, when the codes
  carry a straight-through gradient, through the codes.
* :func:`counting_mutual_information`, the paper's ``BinaryMI`` plug-in histogram of observed
  codes: a monitor, not a loss (counts have no gradient).

The two used as training losses carry closed-form gradients
(:func:`bernoulli_mutual_information_from_sums`, :func:`sampled_joint_total`), equal to what
autodiff gives the plain formulas (:func:`per_unit_mutual_information`,
:func:`sampled_joint_terms`) in far fewer ops.

The batch-mixture quantities are themselves plug-in estimates of the population ``I(T; S)``:
with few examples per group and sharp ``theta`` they are biased upwards (at worst towards
``H(S)`` when every example has its own code).

References:
    Cerrato, Köppel, Esposito, Kramer (2022). Invariant Representations with Stochastically
    Quantized Neural Networks. AAAI.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

LN2 = math.log(2.0)
# Largest layer for which the exact estimator enumerates all codes by default.
DEFAULT_MAX_EXACT_UNITS = 12
TINY = 1e-30

Tensor = Any


def bernoulli_entropy(p: Tensor) -> Tensor:
    """Entropy in bits of Bernoulli(p), elementwise; exactly 0 at p = 0 and p = 1.

    Args:
        p: probabilities in [0, 1].

    Returns:
        ``-p log2 p - (1 - p) log2 (1 - p)`` with the limit 0 at the end points (no NaN, and a
        finite gradient everywhere).

    Example:
        >>> float(bernoulli_entropy(0.5))
        1.0
    """
    p = ops.convert_to_tensor(p, dtype="float32")
    q = 1.0 - p
    return -(_xlogx(p) + _xlogx(q)) / LN2


def _xlogx(p):
    """``p * log(p)``: 0 at p = 0 with a finite gradient there, and NaN stays NaN.

    ``p + TINY`` equals ``p`` in float32 for every p >= 1e-22, so only the limit at 0 moves.
    """
    return p * ops.log(p + TINY)


def categorical_entropy(probs: Tensor, axis: int = -1) -> Tensor:
    """Entropy in bits of categorical distributions laid along ``axis`` (0 log 0 = 0)."""
    probs = ops.convert_to_tensor(probs, dtype="float32")
    return -ops.sum(_xlogx(probs), axis=axis) / LN2


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


def _group_means(counts, sums):
    """``(n, p(s), mean over all, mean per group)`` from group sums (n floored at 1).

    An absent group has p(s) = 0 and a zero-vector mean: finite, so no NaN downstream.
    """
    total = ops.maximum(ops.sum(counts), 1.0)
    group_shape = (-1,) + (1,) * (len(sums.shape) - 1)
    conditional = sums / ops.reshape(ops.maximum(counts, 1.0), group_shape)
    return total, counts / total, ops.sum(sums, axis=0) / total, conditional


def _same_group(sensitive, reference_sensitive):
    """``(examples, references)`` boolean matrix: whether the two share a group id."""
    return ops.equal(ops.reshape(sensitive, (-1, 1)), ops.reshape(reference_sensitive, (1, -1)))


def _mutual_information_from_group_sums(counts, sums, entropy):
    """``H(mean over all) - sum_s p(s) H(mean over group s)`` from group sums."""
    _, p_group, marginal, conditional = _group_means(counts, sums)
    conditional_entropy = entropy(conditional)
    weights = ops.reshape(p_group, (-1,) + (1,) * (len(conditional_entropy.shape) - 1))
    return entropy(marginal) - ops.sum(weights * conditional_entropy, axis=0)


def per_unit_mutual_information_from_sums(counts: Tensor, theta_sums: Tensor) -> Tensor:
    """``I(T_i; S)`` per unit from :func:`group_sums` of ``theta``; shape ``(units,)``."""
    return _mutual_information_from_group_sums(counts, theta_sums, bernoulli_entropy)


def _bernoulli_entropy_slope(p):
    """``d h(p) / dp`` in bits, exactly as autodiff differentiates :func:`bernoulli_entropy`."""
    q = 1.0 - p
    return (ops.log(q + TINY) + q / (q + TINY) - ops.log(p + TINY) - p / (p + TINY)) / LN2


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
        total, p_group, marginal, conditional = _group_means(counts, theta_sums)
        # Row 0: the batch mean of each unit; rows 1..K: the group means.
        means = ops.concatenate([marginal[None, :], conditional], axis=0)
        weights = ops.concatenate([ops.ones((1,)), -p_group], axis=0)
        value = ops.sum(ops.matmul(weights[None, :], bernoulli_entropy(means)))

        def gradient(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            slopes = _bernoulli_entropy_slope(means)
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


def exact_joint_mutual_information_from_sums(counts: Tensor, code_prob_sums: Tensor) -> Tensor:
    """Joint ``I(T; S)`` from :func:`group_sums` of the per-example code probabilities."""
    return _mutual_information_from_group_sums(counts, code_prob_sums, categorical_entropy)


def code_probabilities(theta: Tensor) -> Tensor:
    """``p(t | theta_b)`` for every code t: a ``(batch, 2**units)`` matrix (rows sum to 1)."""
    theta = ops.convert_to_tensor(theta, dtype="float32")
    codes = all_codes(theta.shape[-1])
    return ops.exp(ops.transpose(code_log_likelihoods(codes, theta)))


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
    same_group = _same_group(sensitive, reference_sensitive)
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
    same_group = _same_group(sensitive, sensitive)
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
