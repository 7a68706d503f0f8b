"""Accuracy and fairness metrics of a binary scorer: AUC, GPA, AUDC and the tradeoff rule.

All metrics take `(y_true, y_score, *, sensitive_features)` like fairlearn's metrics, where
`y_true` holds binary labels in {0, 1}, `y_score` real-valued scores (higher means "more
positive") and `sensitive_features` one group label per example (any hashable, mutually
comparable values such as ints or strings).

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
from typing import TYPE_CHECKING, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from keras_sqnn.validation import (
    as_python,
    check_binary_labels,
    check_both_classes,
    check_same_length,
    check_scores,
    check_unit_interval,
    encode_groups,
    group_index,
)

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_NUM_THRESHOLDS = 100
"""Number of equispaced thresholds on [0, 1] used for AUDC, as in the paper."""


def _check_labels_and_scores(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, ...]:
    labels = check_binary_labels(y_true, "y_true")
    scores = check_scores(y_score, "y_score")
    check_same_length(y_true=labels, y_score=scores)
    return labels, scores


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
    labels, scores = _check_labels_and_scores(y_true, y_score)
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
    labels, scores = _check_labels_and_scores(y_true, y_score)
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


def _encoded(
    y_true: ArrayLike, y_score: ArrayLike, sensitive_features: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    labels, scores = _check_labels_and_scores(y_true, y_score)
    codes, groups = encode_groups(sensitive_features)
    check_same_length(y_true=labels, y_score=scores, sensitive_features=codes)
    return labels, scores, codes, groups


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
    pairs = _defined_pairs(*_encoded(y_true, y_score, sensitive_features))
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

    labels, scores, codes, groups = _encoded(y_true, y_score, sensitive_features)
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


def _check_thresholds(thresholds: ArrayLike | None, min_size: int) -> np.ndarray:
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
    labels, scores = _check_labels_and_scores(y_true, y_score)
    check_unit_interval(scores, "y_score")
    codes, groups = encode_groups(sensitive_features)
    check_same_length(y_true=labels, y_score=scores, sensitive_features=codes)
    grid = _check_thresholds(thresholds, min_size=1)
    rates = _selection_rates(scores, codes, groups.size, grid)
    return grid, rates.max(axis=0) - rates.min(axis=0)


def _selection_rates(
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
    grid = _check_thresholds(thresholds, min_size=2)
    grid, gaps = discrimination_curve(
        y_true, y_score, sensitive_features=sensitive_features, thresholds=grid
    )
    return float(np.trapezoid(gaps, grid))


audc = area_under_discrimination_curve

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
    labels, scores, codes, groups = _encoded(y_true, y_score, sensitive_features)
    if metric == "gpa":
        pairs = _defined_pairs(labels, scores, codes, groups)
        i, j, _, _ = max(pairs, key=lambda pair: abs(pair[2] - pair[3]))
    else:
        check_unit_interval(scores, "y_score")
        grid = _check_thresholds(thresholds, min_size=2)
        rates = _selection_rates(scores, codes, groups.size, grid)
        areas = {
            (a, b): float(np.trapezoid(np.abs(rates[a] - rates[b]), grid))
            for a, b in combinations(range(groups.size), 2)
        }
        i, j = max(areas, key=areas.__getitem__)
    return as_python(groups[i]), as_python(groups[j])


def _check_unit_values(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array > 1):
        raise ValueError(f"Expected `{name}` to lie in [0, 1]. Received: {name}={values!r}")
    return array


@overload
def tradeoff_distance(auc: float, unfairness: float) -> float: ...


@overload
def tradeoff_distance(auc: ArrayLike, unfairness: ArrayLike) -> float | np.ndarray: ...


def tradeoff_distance(auc: ArrayLike, unfairness: ArrayLike) -> float | np.ndarray:
    """L1 distance of the point (AUC, 1 - unfairness) to the ideal (1, 1).

    The paper's model-selection rule under an equal accuracy/fairness tradeoff: the best
    model has the smallest distance `(1 - auc) + unfairness`. Works elementwise on arrays,
    so `np.argmin(tradeoff_distance(aucs, gpas))` selects the best of many models.

    Args:
        auc: AUC value(s) in [0, 1].
        unfairness: GPA, AUDC or ADRG value(s) in [0, 1] (lower is fairer).

    Returns:
        The distance, in [0, 2]: a float for scalar inputs, else an array.

    Example:

    >>> tradeoff_distance(0.75, 0.125)
    0.375

    References:
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, Figure 2.
    """
    auc_values = _check_unit_values(auc, "auc")
    unfairness_values = _check_unit_values(unfairness, "unfairness")
    distance = (1.0 - auc_values) + unfairness_values
    return float(distance) if distance.ndim == 0 else distance


def equal_tradeoff_line(
    best_auc: float, best_unfairness: float, *, num: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the equal-tradeoff line through the best model, for plots.

    The line holds every (AUC, 1 - unfairness) point in the unit square at the same L1
    distance to (1, 1) as the best model (the dotted line of the paper's Figures 2 and 4):
    a segment of slope -1 through `(best_auc, 1 - best_unfairness)`.

    Args:
        best_auc: the best model's AUC, in [0, 1].
        best_unfairness: the best model's unfairness (GPA, AUDC or ADRG), in [0, 1].
        num: number of points, at least 2.

    Returns:
        A tuple `(auc_values, fairness_values)` of `num` points each, for the x axis (AUC,
        increasing) and the y axis (1 - unfairness) of an accuracy/fairness plot.

    Example:

    >>> x, y = equal_tradeoff_line(0.75, 0.25, num=3)
    >>> x.tolist(), y.tolist()
    ([0.5, 0.75, 1.0], [1.0, 0.75, 0.5])

    References:
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, Figure 2.
    """
    if isinstance(num, bool) or not isinstance(num, int | np.integer) or num < 2:
        raise ValueError(f"Expected `num` to be an integer >= 2. Received: num={num!r}")
    distance = tradeoff_distance(float(best_auc), float(best_unfairness))
    auc_values = np.linspace(max(0.0, 1.0 - distance), min(1.0, 2.0 - distance), num)
    return auc_values, (2.0 - distance) - auc_values


__all__ = [
    "DEFAULT_NUM_THRESHOLDS",
    "PAIR_TABLE_COLUMNS",
    "WORST_PAIR_METRICS",
    "area_under_discrimination_curve",
    "audc",
    "auc",
    "discrimination_curve",
    "equal_tradeoff_line",
    "gpa",
    "group_pairwise_accuracy_difference",
    "pairwise_accuracy",
    "pairwise_accuracy_table",
    "tradeoff_distance",
    "worst_group_pair",
]
