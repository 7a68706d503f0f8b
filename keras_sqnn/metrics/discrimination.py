"""Disparate impact of a binary scorer over thresholds: the discrimination curve and AUDC.

Like the metrics of `keras_sqnn.metrics.fairness`, these take
`(y_true, y_score, *, sensitive_features)`, with `y_score` probabilities in [0, 1] and
`sensitive_features` one group label per example, or `(n, k)` for the observed
intersections of k attributes. With more than two groups the gap at a threshold is that of
the worst pair of groups (`keras_sqnn.metrics.worst_group_pair` names the pair whose own
AUDC is largest).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn.metrics._inputs import check_labels_and_scores
from keras_sqnn.validation import (
    check_same_length,
    check_scores,
    check_unit_interval,
    encode_groups,
)

DEFAULT_NUM_THRESHOLDS = 100
"""Number of equispaced thresholds on [0, 1] used for AUDC, as in the paper."""


def check_thresholds(thresholds: ArrayLike | None, min_size: int) -> np.ndarray:
    if thresholds is None:
        return np.linspace(0.0, 1.0, DEFAULT_NUM_THRESHOLDS)
    grid = check_unit_interval(check_scores(thresholds, "thresholds"), "thresholds")
    if grid.size < min_size:
        raise ValueError(
            f"Expected `thresholds` to hold at least {min_size} values. "
            f"Received: thresholds={grid.tolist()}"
        )
    if np.any(np.diff(grid) <= 0):
        raise ValueError(
            f"Expected `thresholds` to be strictly increasing. Received: thresholds={grid}"
        )
    return grid


def discrimination_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    thresholds: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Demographic-parity gap of the thresholded scores, at each threshold.

    At threshold t the prediction is `y_score >= t`, and the gap is
    |P(y_hat=1 | s=1) - P(y_hat=1 | s=0)|; with K > 2 groups it is the largest gap over
    pairs of groups, i.e. the largest minus the smallest selection rate (what
    `fairlearn.metrics.demographic_parity_difference` returns for the same predictions).
    `y_true` is only validated: the gap does not depend on it.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: probabilities in [0, 1], shape `(n,)`.
        sensitive_features: group labels, shape `(n,)`, or `(n, k)` for the observed
            intersections of k attributes; at least two groups.
        thresholds: strictly increasing thresholds in [0, 1]; by default 100 equispaced
            values from 0 to 1 (`np.linspace(0, 1, 100)`), as in the paper.

    Returns:
        A tuple `(thresholds, gaps)` of 1-D arrays of the same length.

    Example:

    >>> t, gaps = discrimination_curve(
    ...     [0, 1, 0, 1], [0.2, 0.8, 0.6, 0.4],
    ...     sensitive_features=[0, 0, 1, 1], thresholds=[0.0, 0.5, 0.7, 1.0],
    ... )
    >>> gaps.tolist()
    [0.0, 0.0, 0.5, 0.0]

    References:
        - Zemel, Wu, Swersky, Pitassi and Dwork, "Learning Fair Representations", ICML 2013.
    """
    labels, scores = check_labels_and_scores(y_true, y_score)
    check_unit_interval(scores, "y_score")
    codes, groups = encode_groups(sensitive_features)
    check_same_length(y_true=labels, y_score=scores, sensitive_features=codes)
    grid = check_thresholds(thresholds, min_size=1)
    rates = selection_rates(scores, codes, groups.size, grid)
    return grid, rates.max(axis=0) - rates.min(axis=0)


def selection_rates(
    scores: np.ndarray, codes: np.ndarray, n_groups: int, grid: np.ndarray
) -> np.ndarray:
    """`(n_groups, len(grid))` rates P(score >= t | group) of non-empty groups."""
    rates = np.empty((n_groups, grid.size))
    for k in range(n_groups):
        group_scores = np.sort(scores[codes == k])
        # Number of scores >= t is the size minus the number of scores < t.
        n_selected = group_scores.size - np.searchsorted(group_scores, grid, side="left")
        rates[k] = n_selected / group_scores.size
    return rates


def area_under_discrimination_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    thresholds: ArrayLike | None = None,
) -> float:
    """Area under the discrimination curve (AUDC), a disparate-impact measure.

    The `discrimination_curve` integrated over the threshold axis with the trapezoidal
    rule. On the default grid (100 equispaced thresholds spanning [0, 1]) a constant gap
    g gives AUDC = g, so AUDC lies in [0, 1]; on a custom grid the area is over the grid's
    span. Lower is fairer.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: probabilities in [0, 1], shape `(n,)`.
        sensitive_features: group labels, shape `(n,)`, or `(n, k)` for the observed
            intersections of k attributes; at least two groups.
        thresholds: at least two strictly increasing thresholds in [0, 1]; by default
            `np.linspace(0, 1, 100)`, as in the paper.

    Returns:
        AUDC, a float.

    Example:

    >>> area_under_discrimination_curve(
    ...     [0, 1, 0, 1], [0.2, 0.8, 0.6, 0.4],
    ...     sensitive_features=[0, 0, 1, 1], thresholds=[0.0, 0.5, 0.7, 1.0],
    ... )
    0.125

    References:
        - Zemel, Wu, Swersky, Pitassi and Dwork, "Learning Fair Representations", ICML 2013.
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, section "Metrics".
    """
    grid = check_thresholds(thresholds, min_size=2)
    grid, gaps = discrimination_curve(
        y_true, y_score, sensitive_features=sensitive_features, thresholds=grid
    )
    return float(np.trapezoid(gaps, grid))


audc = area_under_discrimination_curve


__all__ = [
    "DEFAULT_NUM_THRESHOLDS",
    "area_under_discrimination_curve",
    "audc",
    "discrimination_curve",
]
