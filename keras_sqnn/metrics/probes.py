"""Representation probes: how well a classifier recovers S (and Y) from a representation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from keras_sqnn.validation import (
    as_python,
    check_binary_labels,
    check_both_classes,
    check_same_length,
    encode_groups,
    resolve_sensitive,
)


@dataclass(frozen=True)
class RepresentationProbeResult:
    """What a probe trained on a representation recovers, measured on held-out examples.

    Attributes:
        adrg: absolute distance to random guess, |probe_accuracy - majority_ratio|.
        probe_accuracy: the probe's accuracy at predicting S on the test part.
        majority_ratio: the share of the largest group of S in the test part.
        probe_auc_s: the probe's AUC for S (one-vs-rest macro average when S has more than
            two groups).
        probe_auc_y: the AUC for Y of a probe of the same kind trained on the same split
            ("RF AUC" in the paper's Figure 4), or None when no `y` was given.
    """

    adrg: float
    probe_accuracy: float
    majority_ratio: float
    probe_auc_s: float
    probe_auc_y: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """The fields as a plain dict."""
        return dataclasses.asdict(self)


def _check_representation(representation: ArrayLike) -> np.ndarray:
    array = np.asarray(representation)
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(
            "Expected `representation` to be an array of shape (n, ...) with n > 0. "
            f"Received: representation with shape {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(
            "Expected `representation` to hold real numbers. "
            f"Received: representation with dtype {array.dtype}"
        )
    array = array.reshape(array.shape[0], -1).astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(
            "Expected `representation` to be finite (no NaN or infinity). "
            f"Received: representation with {int(np.sum(~np.isfinite(array)))} non-finite values"
        )
    return array


def _make_probe(
    n_estimators: int, random_state: int | None, n_jobs: int | None
) -> RandomForestClassifier:
    return RandomForestClassifier(
        n_estimators=int(n_estimators), random_state=random_state, n_jobs=n_jobs
    )


def representation_probe(
    representation: ArrayLike,
    s: ArrayLike | None = None,
    y: ArrayLike | None = None,
    *,
    sensitive_features: ArrayLike | None = None,
    n_estimators: int = 1000,
    test_size: float | int = 0.3,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> RepresentationProbeResult:
    """Train a random-forest probe to predict S from a representation; report ADRG and AUCs.

    The examples are split into a train and a test part, stratified by S. A
    `RandomForestClassifier` with `n_estimators` trees (1000 in the paper) learns S on the
    train part; on the test part we report its accuracy, the majority-group ratio and
    ADRG = |accuracy - majority ratio|, the absolute distance to the random guess of always
    predicting the largest group (0: S is not recoverable beyond chance). With `y`, a second
    forest of the same settings learns Y on the same split and its test AUC measures how
    informative the representation stays about Y.

    On a representation that carries no information about S, the probe's guesses are
    independent of S and its expected accuracy is sum_k q_k p_k (q: how often it guesses
    group k, p: the group shares), which equals the majority ratio when S is balanced or the
    probe always guesses the largest group. With unbalanced S and a probe that guesses
    other groups too, ADRG can thus be positive even on pure noise.

    Args:
        representation: array of shape `(n, ...)`, flattened to `(n, d)`; for example the
            activations of a network's penultimate layer.
        s: deprecated, the former positional spelling of `sensitive_features`
            (`representation_probe(representation, s, y)` still works, with a
            `DeprecationWarning`, until 0.2). The slot stays second, so old positional
            calls keep their meaning: pass `y` by keyword with `sensitive_features`.
        y: optional binary target in {0, 1}, shape `(n,)`.
        sensitive_features: the sensitive attribute S, keyword-only, shape `(n,)` (or
            `(n, k)` for the intersections of k attributes), any hashable group labels, at
            least two groups with at least two examples each.
        n_estimators: number of trees of each forest.
        test_size: the test part, as a fraction in (0, 1) or a number of examples (as in
            `sklearn.model_selection.train_test_split`).
        random_state: seed of the split and of the forests.
        n_jobs: parallel jobs of the forests (`None`: one; `-1`: all cores).

    Returns:
        A `RepresentationProbeResult`.

    Raises:
        TypeError: when S is given both as `sensitive_features` and as `s` (for example
            `representation_probe(representation, y, sensitive_features=s)`), or not at all.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 2, 200)
    >>> leaky = np.column_stack([s + rng.normal(0, 0.1, 200), rng.normal(size=200)])
    >>> result = representation_probe(leaky, sensitive_features=s, n_estimators=20)
    >>> result.probe_accuracy, result.adrg == abs(1.0 - result.majority_ratio)
    (1.0, True)

    References:
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, Figure 4.
        - Breiman, "Random Forests", Machine Learning, 2001.
    """
    s = resolve_sensitive(
        sensitive_features,
        s,
        call="representation_probe(representation, y=y, sensitive_features=s)",
    )
    features = _check_representation(representation)
    codes, groups = encode_groups(s, "sensitive_features")
    lengths = {"representation": features, "sensitive_features": codes}
    labels = None
    if y is not None:
        labels = check_both_classes(check_binary_labels(y, "y"), "y")
        lengths["y"] = labels
    check_same_length(**lengths)
    if (
        isinstance(n_estimators, bool)
        or not isinstance(n_estimators, int | np.integer)
        or n_estimators < 1
    ):
        raise ValueError(
            "Expected `n_estimators` to be a positive integer. "
            f"Received: n_estimators={n_estimators!r}"
        )
    counts = np.bincount(codes, minlength=groups.size)
    if counts.min() < 2:
        smallest = as_python(groups[int(np.argmin(counts))])
        raise ValueError(
            "Expected every group of `sensitive_features` to have at least two examples, to "
            "split them into train and test parts. Received: sensitive_features with group "
            f"{smallest!r} of {counts.min()} example"
        )
    try:
        train, test = train_test_split(
            np.arange(codes.size), test_size=test_size, random_state=random_state, stratify=codes
        )
    except ValueError as error:
        raise ValueError(
            f"Could not split the {codes.size} examples, stratified by `sensitive_features` with "
            f"{groups.size} groups, with test_size={test_size!r}: {error}"
        ) from error
    for part, name in ((train, "train"), (test, "test")):
        if np.unique(codes[part]).size < groups.size:
            raise ValueError(
                f"Expected every group of `sensitive_features` in the {name} part. Received: "
                f"sensitive_features with group sizes {counts.tolist()}, too small to split "
                f"with test_size={test_size!r}"
            )

    probe_s = _make_probe(n_estimators, random_state, n_jobs).fit(features[train], codes[train])
    s_test = codes[test]
    probe_accuracy = float(np.mean(probe_s.predict(features[test]) == s_test))
    majority_ratio = float(np.bincount(s_test).max() / s_test.size)
    proba_s = probe_s.predict_proba(features[test])
    if groups.size == 2:
        probe_auc_s = float(roc_auc_score(s_test, proba_s[:, 1]))
    else:
        probe_auc_s = float(
            roc_auc_score(
                s_test,
                proba_s,
                multi_class="ovr",
                average="macro",
                labels=np.arange(groups.size),
            )
        )

    probe_auc_y = None
    if labels is not None:
        for part, name in ((train, "train"), (test, "test")):
            check_both_classes(labels[part], f"y (its {name} part)")
        probe_y = _make_probe(n_estimators, random_state, n_jobs).fit(
            features[train], labels[train]
        )
        probe_auc_y = float(
            roc_auc_score(labels[test], probe_y.predict_proba(features[test])[:, 1])
        )

    return RepresentationProbeResult(
        adrg=abs(probe_accuracy - majority_ratio),
        probe_accuracy=probe_accuracy,
        majority_ratio=majority_ratio,
        probe_auc_s=probe_auc_s,
        probe_auc_y=probe_auc_y,
    )


def adrg(
    representation: ArrayLike,
    s: ArrayLike | None = None,
    *,
    sensitive_features: ArrayLike | None = None,
    n_estimators: int = 1000,
    test_size: float | int = 0.3,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> float:
    """Absolute distance to random guess (ADRG) of a random-forest probe predicting S.

    Shorthand for `representation_probe(representation, sensitive_features=s, ...).adrg`;
    see there for the split, the probe and the arguments.

    Args:
        representation: array of shape `(n, ...)`.
        s: deprecated, the former positional spelling of `sensitive_features` (with a
            `DeprecationWarning` until 0.2).
        sensitive_features: the sensitive attribute S, keyword-only, shape `(n,)`, at
            least two groups.
        n_estimators: number of trees of the forest (1000 in the paper).
        test_size: the test part, a fraction in (0, 1) or a number of examples.
        random_state: seed of the split and of the forest.
        n_jobs: parallel jobs of the forest.

    Returns:
        ADRG = |probe accuracy - majority-group ratio| on the test part, in [0, 1].

    Example:

    >>> rng = np.random.default_rng(0)
    >>> s = np.repeat([0, 1], 100)
    >>> adrg(rng.normal(size=(200, 3)), sensitive_features=s, n_estimators=20) < 0.2
    True

    References:
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, Figure 4.
    """
    s = resolve_sensitive(sensitive_features, s, call="adrg(representation, sensitive_features=s)")
    return representation_probe(
        representation,
        sensitive_features=s,
        n_estimators=n_estimators,
        test_size=test_size,
        random_state=random_state,
        n_jobs=n_jobs,
    ).adrg


__all__ = ["RepresentationProbeResult", "adrg", "representation_probe"]
