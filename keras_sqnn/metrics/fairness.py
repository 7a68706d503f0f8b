"""Accuracy and disparate mistreatment of a binary scorer: AUC, GPA and the worst pair.

All metrics take `(y_true, y_score, *, sensitive_features)` like fairlearn's metrics, where
`y_true` holds binary labels in {0, 1}, `y_score` real-valued scores (higher means "more
positive") and `sensitive_features` one group label per example (any hashable, mutually
comparable values such as ints or strings). Disparate impact (the discrimination curve and
AUDC) is in `keras_sqnn.metrics.discrimination`, the model-selection rule in
`keras_sqnn.metrics.tradeoff`.

Several sensitive attributes: `sensitive_features` of shape `(n, k)` (a 2-D array or a
DataFrame with k columns) makes the groups the observed intersections of the k attributes
(tuples of labels; a combination without examples is no group, so it never yields a NaN).
With more than two groups GPA and AUDC measure the worst pair of groups;
`worst_group_pair` names it and `pairwise_accuracy_table` lists every pair's GPA gap. The
per-attribute figures are the same functions on one column at a time
(`keras_sqnn.metrics.evaluate_fairness` reports both).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from keras_sqnn.metrics._inputs import check_labels_and_scores, encoded_inputs
from keras_sqnn.metrics.discrimination import check_thresholds, selection_rates
from keras_sqnn.validation import (
    as_python,
    check_both_classes,
    check_same_length,
    check_unit_interval,
    encode_groups,
    group_index,
)

if TYPE_CHECKING:
    import pandas as pd


def auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve of `y_score` for the binary labels `y_true`.

    A validated call of `sklearn.metrics.roc_auc_score`: ties count as one half.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`; both classes must be present.
        y_score: finite scores, shape `(n,)` or `(n, 1)`.

    Returns:
        The AUC, a float in [0, 1].

    Example:

    >>> auc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.8])
    0.75

    References:
        - Hanley and McNeil, "The meaning and use of the area under a receiver operating
          characteristic (ROC) curve", Radiology, 1982.
    """
    labels, scores = check_labels_and_scores(y_true, y_score)
    check_both_classes(labels, "y_true")
    return float(roc_auc_score(labels, scores))


def _pairwise_accuracy_codes(
    labels: np.ndarray, scores: np.ndarray, codes: np.ndarray, pos: int, neg: int
) -> float | None:
    """A_{pos > neg} on encoded groups, or None when either set of the pairs is empty."""
    positives = scores[(codes == pos) & (labels == 1)]
    negatives = scores[(codes == neg) & (labels == 0)]
    if positives.size == 0 or negatives.size == 0:
        return None
    pair_labels = np.concatenate([np.ones(positives.size), np.zeros(negatives.size)])
    return float(roc_auc_score(pair_labels, np.concatenate([positives, negatives])))


def pairwise_accuracy(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    group_pos: object,
    group_neg: object,
) -> float:
    """Group-dependent pairwise accuracy A_{group_pos > group_neg}.

    The fraction of pairs (a positive example of `group_pos`, a negative example of
    `group_neg`) in which the positive example gets the higher score; a tie counts as one
    half. This is the AUC between the two sets, computed with
    `sklearn.metrics.roc_auc_score` in O(n log n) time instead of enumerating the pairs.
    `group_pos` and `group_neg` may be the same group (then it is that group's AUC).

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: finite scores, shape `(n,)`.
        sensitive_features: group labels, shape `(n,)`, or `(n, k)` for intersections
            (then the groups are tuples of k labels).
        group_pos: the group whose positive examples are used.
        group_neg: the group whose negative examples are used.

    Returns:
        A_{group_pos > group_neg}, a float in [0, 1].

    Raises:
        ValueError: if `group_pos` has no positive example or `group_neg` has no negative
            example (the pairwise accuracy is then undefined), or on invalid inputs.

    Example:

    >>> y_true, y_score = [1, 0, 1, 0], [0.9, 0.4, 0.3, 0.5]
    >>> groups = ["a", "a", "b", "b"]
    >>> pairwise_accuracy(y_true, y_score, sensitive_features=groups, group_pos="a", group_neg="b")
    1.0
    >>> pairwise_accuracy(y_true, y_score, sensitive_features=groups, group_pos="b", group_neg="a")
    0.0

    References:
        - Narasimhan, Cotter, Gupta and Wang, "Pairwise Fairness for Ranking and
          Regression", AAAI 2020.
    """
    labels, scores = check_labels_and_scores(y_true, y_score)
    codes, groups = encode_groups(sensitive_features, min_groups=1)
    check_same_length(y_true=labels, y_score=scores, sensitive_features=codes)
    pos = group_index(groups, group_pos, "group_pos")
    neg = group_index(groups, group_neg, "group_neg")
    value = _pairwise_accuracy_codes(labels, scores, codes, pos, neg)
    if value is None:
        n_pos = int(np.sum((codes == pos) & (labels == 1)))
        n_neg = int(np.sum((codes == neg) & (labels == 0)))
        raise ValueError(
            "Expected at least one positive example (y_true=1) of `group_pos` and one "
            "negative example (y_true=0) of `group_neg`. Received: "
            f"group_pos={group_pos!r} with {n_pos} positives, "
            f"group_neg={group_neg!r} with {n_neg} negatives"
        )
    return value


def _defined_pairs(
    labels: np.ndarray, scores: np.ndarray, codes: np.ndarray, groups: np.ndarray
) -> list[tuple[int, int, float, float]]:
    """`(i, j, A_{i>j}, A_{j>i})` for every pair of groups that both hold both classes."""
    counts = np.zeros((groups.size, 2), dtype=np.int64)
    np.add.at(counts, (codes, labels), 1)
    usable = np.flatnonzero((counts > 0).all(axis=1))
    if usable.size < 2:
        per_group = ", ".join(
            f"{as_python(groups[k])!r}: {counts[k, 1]} positives/{counts[k, 0]} negatives"
            for k in range(groups.size)
        )
        raise ValueError(
            "Expected at least two groups in `sensitive_features` that each contain both "
            f"classes of `y_true`, so that GPA is defined. Received: {per_group}"
        )
    pairs = []
    for i, j in combinations(usable.tolist(), 2):
        a_ij = _pairwise_accuracy_codes(labels, scores, codes, i, j)
        a_ji = _pairwise_accuracy_codes(labels, scores, codes, j, i)
        assert a_ij is not None and a_ji is not None
        pairs.append((i, j, a_ij, a_ji))
    return pairs


def group_pairwise_accuracy_difference(
    y_true: ArrayLike, y_score: ArrayLike, *, sensitive_features: ArrayLike
) -> float:
    """Group-dependent pairwise accuracy difference (GPA), a disparate-mistreatment measure.

    For two groups G0 and G1, GPA = |A_{G1>G0} - A_{G0>G1}|, where A_{Gi>Gj} is the
    `pairwise_accuracy` of positives of Gi against negatives of Gj (ties count one half).
    With K > 2 groups, GPA is the maximum of |A_{Gi>Gj} - A_{Gj>Gi}| over all pairs of
    groups (`worst_group_pair` names that pair, `pairwise_accuracy_table` lists them all).
    A pair is defined only when both of its groups contain positive and negative
    examples; pairs with a group lacking either class are skipped, and an error is raised
    when no pair is defined. With several sensitive columns the groups are their observed
    intersections (a combination without examples is no group). Runs in O(K^2 n log n)
    time. 0 is perfectly fair.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: finite scores, shape `(n,)`.
        sensitive_features: group labels, shape `(n,)`, or `(n, k)` (a 2-D array or a
            k-column DataFrame) for the intersections of k attributes; at least two groups.

    Returns:
        GPA, a float in [0, 1].

    Example:

    >>> group_pairwise_accuracy_difference(
    ...     [1, 0, 1, 0], [0.9, 0.4, 0.3, 0.5], sensitive_features=["a", "a", "b", "b"]
    ... )
    1.0

    References:
        - Narasimhan, Cotter, Gupta and Wang, "Pairwise Fairness for Ranking and
          Regression", AAAI 2020.
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, section "Metrics".
    """
    pairs = _defined_pairs(*encoded_inputs(y_true, y_score, sensitive_features))
    return float(max(abs(a_ij - a_ji) for _, _, a_ij, a_ji in pairs))


PAIR_TABLE_COLUMNS = ("group_a", "group_b", "n_a", "n_b", "accuracy_ab", "accuracy_ba", "gap")
"""Columns of `pairwise_accuracy_table`, in order."""


def pairwise_accuracy_table(
    y_true: ArrayLike, y_score: ArrayLike, *, sensitive_features: ArrayLike
) -> pd.DataFrame:
    """Every pair of groups behind GPA, worst first: the per-group view of GPA.

    One row per pair of groups that both contain both classes (the pairs GPA takes the
    maximum over), with `group_a < group_b` in sorted order: their labels (tuples for the
    intersections of several columns), sizes `n_a`, `n_b`, `accuracy_ab` = A_{a>b},
    `accuracy_ba` = A_{b>a} and `gap` = |A_{a>b} - A_{b>a}|, sorted by decreasing gap (ties
    keep the sorted pair order). The first row's gap is the GPA.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: finite scores, shape `(n,)`.
        sensitive_features: group labels, shape `(n,)` or `(n, k)` (intersections).

    Returns:
        A DataFrame with the columns `PAIR_TABLE_COLUMNS`.

    Example:

    >>> table = pairwise_accuracy_table(
    ...     [1, 0, 1, 0, 1, 0], [0.9, 0.4, 0.3, 0.5, 0.8, 0.2],
    ...     sensitive_features=["a", "a", "b", "b", "c", "c"],
    ... )
    >>> table[["group_a", "group_b", "gap"]].values.tolist()
    [['a', 'b', 1.0], ['a', 'c', 0.0], ['b', 'c', 0.0]]
    """
    import pandas as pd

    labels, scores, codes, groups = encoded_inputs(y_true, y_score, sensitive_features)
    sizes = np.bincount(codes, minlength=groups.size)
    rows = [
        (
            as_python(groups[i]),
            as_python(groups[j]),
            int(sizes[i]),
            int(sizes[j]),
            a_ij,
            a_ji,
            abs(a_ij - a_ji),
        )
        for i, j, a_ij, a_ji in _defined_pairs(labels, scores, codes, groups)
    ]
    table = pd.DataFrame(rows, columns=list(PAIR_TABLE_COLUMNS))
    return table.sort_values("gap", ascending=False, kind="stable").reset_index(drop=True)


gpa = group_pairwise_accuracy_difference

WORST_PAIR_METRICS = ("gpa", "audc")
"""Metrics whose worst pair of groups `worst_group_pair` finds."""


def worst_group_pair(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    metric: str = "gpa",
    thresholds: ArrayLike | None = None,
) -> tuple[object, object]:
    """The pair of groups that makes GPA or AUDC unfair, with two groups or more.

    - `metric="gpa"`: the pair whose gap |A_{a>b} - A_{b>a}| is the GPA (the first row of
      `pairwise_accuracy_table`).
    - `metric="audc"`: the pair of groups whose own AUDC, the area under
      |P(y_hat=1 | a) - P(y_hat=1 | b)| over the thresholds, is largest. AUDC itself takes
      the worst pair at each threshold, so with three groups or more it may exceed this
      pair's area when different pairs are worst at different thresholds.

    Ties go to the first pair in sorted order. With several sensitive columns the groups
    are their observed intersections, and the pair holds two tuples of labels.

    Args:
        y_true: binary labels in {0, 1}, shape `(n,)`.
        y_score: scores, shape `(n,)` (probabilities in [0, 1] for `"audc"`).
        sensitive_features: group labels, shape `(n,)` or `(n, k)`.
        metric: `"gpa"` or `"audc"`.
        thresholds: the AUDC thresholds, as in `area_under_discrimination_curve`.

    Returns:
        `(group_a, group_b)`, with `group_a` before `group_b` in sorted order.

    Example:

    >>> worst_group_pair(
    ...     [1, 0, 1, 0, 1, 0], [0.9, 0.4, 0.3, 0.5, 0.8, 0.2],
    ...     sensitive_features=[[0, "x"], [0, "x"], [1, "x"], [1, "x"], [1, "y"], [1, "y"]],
    ... )
    (('0', 'x'), ('1', 'x'))
    """
    if metric not in WORST_PAIR_METRICS:
        raise ValueError(
            f"Expected `metric` to be one of {WORST_PAIR_METRICS}. Received: metric={metric!r}"
        )
    labels, scores, codes, groups = encoded_inputs(y_true, y_score, sensitive_features)
    if metric == "gpa":
        pairs = _defined_pairs(labels, scores, codes, groups)
        i, j, _, _ = max(pairs, key=lambda pair: abs(pair[2] - pair[3]))
    else:
        check_unit_interval(scores, "y_score")
        grid = check_thresholds(thresholds, min_size=2)
        rates = selection_rates(scores, codes, groups.size, grid)
        areas = {
            (a, b): float(np.trapezoid(np.abs(rates[a] - rates[b]), grid))
            for a, b in combinations(range(groups.size), 2)
        }
        i, j = max(areas, key=areas.__getitem__)
    return as_python(groups[i]), as_python(groups[j])


__all__ = [
    "PAIR_TABLE_COLUMNS",
    "WORST_PAIR_METRICS",
    "auc",
    "gpa",
    "group_pairwise_accuracy_difference",
    "pairwise_accuracy",
    "pairwise_accuracy_table",
    "worst_group_pair",
]
