"""Shared argument checks of the metrics of a binary scorer (`fairness`, `discrimination`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn.validation import (
    check_binary_labels,
    check_same_length,
    check_scores,
    encode_groups,
)


def check_labels_and_scores(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, ...]:
    labels = check_binary_labels(y_true, "y_true")
    scores = check_scores(y_score, "y_score")
    check_same_length(y_true=labels, y_score=scores)
    return labels, scores


def encoded_inputs(
    y_true: ArrayLike, y_score: ArrayLike, sensitive_features: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    labels, scores = check_labels_and_scores(y_true, y_score)
    codes, groups = encode_groups(sensitive_features)
    check_same_length(y_true=labels, y_score=scores, sensitive_features=codes)
    return labels, scores, codes, groups
