"""The paper's model-selection rule: distance to the ideal (AUC 1, unfairness 0) and its line."""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike


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
    "equal_tradeoff_line",
    "tradeoff_distance",
]
