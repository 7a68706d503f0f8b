"""FARE's certificate for a finite-cell representation, as a reference for :func:`certify`.

FARE (Jovanović et al., ICML 2023) bounds the demographic-parity gap of any classifier of
a representation with finitely many cells from per-cell counts: Clopper-Pearson intervals
on the joint probabilities ``P(cell, S = s)`` and on the group priors ``P(S = s)``, all
joined by a union bound, give intervals on ``p_s(c) = P(c, s) / P(s)``; the total variation
``sum_c (p_a(c) - p_b(c))^+`` is then at most ``sum_c (upper_a(c) - lower_b(c))^+`` (and the
same with a and b swapped). Every one of the ``2**units`` cells gets an interval, seen or
not, so the bound grows with the number of cells; :mod:`keras_sqnn.metrics.certificate`
instead averages each row's exact code distribution and pays one concentration term.

References:
    Jovanović, Balunović, Dimitrov, Vechev. *FARE: Provably Fair Representation Learning
    with Practical Certificates*. ICML 2023.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

from keras_sqnn.validation import check_same_length, encode_groups


def clopper_pearson(counts: np.ndarray, n: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided ``1 - alpha`` Clopper-Pearson intervals for binomial proportions.

    Example:
        >>> low, high = clopper_pearson(np.array([0, 5]), 10, 0.05)
        >>> round(float(low[0]), 4), round(float(high[0]), 4), round(float(low[1]), 4)
        (0.0, 0.3085, 0.1871)
    """
    counts = np.asarray(counts, dtype=np.float64)
    low = np.where(counts > 0, beta.ppf(alpha / 2, counts, n - counts + 1), 0.0)
    high = np.where(counts < n, beta.ppf(1 - alpha / 2, counts + 1, n - counts), 1.0)
    return np.nan_to_num(low), np.nan_to_num(high, nan=1.0)


def fare_tv_bound(
    codes: ArrayLike, *, sensitive_features: ArrayLike, confidence: float = 0.95
) -> float:
    """FARE's upper confidence bound on the total variation between two groups' codes.

    Args:
        codes: ``(n, units)`` binary codes, one per row (the codes served).
        sensitive_features: one label per row, exactly two groups.
        confidence: probability that the bound holds.

    Returns:
        The bound, at most 1.

    Example:
        >>> codes = np.zeros((2000, 2))  # one cell: both groups agree exactly
        >>> round(fare_tv_bound(codes, sensitive_features=np.repeat([0, 1], 1000)), 3)
        0.138
    """
    codes = np.asarray(codes).astype(np.int64)
    groups, labels = encode_groups(sensitive_features)
    check_same_length(codes=codes, sensitive_features=groups)
    if labels.size != 2:
        raise ValueError(
            f"Expected exactly two groups in `sensitive_features`. Received: {labels.size} groups"
        )
    n, units = codes.shape
    cells = 2**units
    cell = codes @ (1 << np.arange(units))
    # 2 * cells joint intervals and 2 prior intervals share the error probability.
    alpha = (1.0 - confidence) / (2 * cells + 2)
    upper, lower = [], []
    prior_low, prior_high = clopper_pearson(np.bincount(groups, minlength=2), n, alpha)
    for s in range(2):
        joint = np.bincount(cell[groups == s], minlength=cells)
        low, high = clopper_pearson(joint, n, alpha)
        lower.append(low / prior_high[s])
        upper.append(np.minimum(1.0, high / max(prior_low[s], 1e-300)))
    one_way = np.clip(upper[0] - lower[1], 0.0, None).sum()
    other_way = np.clip(upper[1] - lower[0], 0.0, None).sum()
    return float(min(1.0, one_way, other_way))


__all__ = ["clopper_pearson", "fare_tv_bound"]
