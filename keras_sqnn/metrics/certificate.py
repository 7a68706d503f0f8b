"""Certified invariance: how unfair can *any* use of a stochastic binary code be?

A code ``T`` with finitely many values is a finite-cell representation. For any classifier
``h`` that reads only ``T`` (deterministic or randomised), the demographic-parity gap
between groups ``a`` and ``b`` is at most the total variation between their code
distributions::

    |P(h(T) = 1 | S = a) - P(h(T) = 1 | S = b)|
        = |sum_t P(h = 1 | t) (p_a(t) - p_b(t))|  <=  TV(p_a, p_b) = 1/2 sum_t |p_a(t) - p_b(t)|

and any adversary predicting S in {a, b} from T has balanced accuracy at most
``(1 + TV) / 2``. Conditioned on the label (``p_{s|y}``), the same bound holds for the
gap of any classifier of T within class ``y``: the equalized-odds gap.

**Estimate.** For ``inference="sample"`` the code of row ``x`` is drawn from
``P(t | x) = prod_j theta_j^t_j (1 - theta_j)^(1 - t_j)``, known exactly. The group's
code distribution is estimated by ``p̂_s = mean of P(. | x_i) over its n_s rows``, every
code enumerated (``method="exact"``, up to ``max_exact_units`` units), or by the histogram
of ``n_samples`` codes drawn per row (``method="monte_carlo"``). For
``inference="threshold"`` the code ``1[theta >= 0.5]`` is deterministic and ``p̂_s`` is its
histogram.

**Bound.** Assume the rows are drawn i.i.d. from the population the certificate is about
(given their groups, the rows of group ``s`` are i.i.d. from ``P(X | S = s)``). Each
estimate is unbiased, ``E p̂_s = p_s``, and ``TV`` is convex, so ``E TV(p̂_a, p̂_b) >=
TV(p_a, p_b)`` (Jensen). Changing one row of group ``s`` (with its sampled codes) moves
``p̂_s`` by at most ``2 / n_s`` in L1 norm, hence ``TV(p̂_a, p̂_b)`` by at most ``1 / n_s``.
McDiarmid's inequality then gives, with probability at least ``1 - delta``::

    TV(p_a, p_b)  <=  TV(p̂_a, p̂_b) + sqrt(ln(1 / delta) * (1 / n_a + 1 / n_b) / 2).

Every statement of a certificate (each pair of groups, and each class with ``y``) uses
``delta = (1 - confidence) / K`` for its K statements (a union bound), so all of them hold
together with probability at least ``confidence``. The plug-in is biased upwards (most
for sampled histograms of wide codes, where nearly every code is unique), which makes the
bound conservative, never invalid.

What it does not cover: scores computed from theta (``inference="expectation"``, or an
average over many sampled codes), which are continuous; and a model whose head reads
anything besides the code (a skip connection around the layer).

References:
    Jovanović, Balunović, Dimitrov, Vechev. *FARE: Provably Fair Representation Learning
    with Practical Certificates*. ICML 2023.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn.metrics.code_distributions import (
    exact_code_distributions,
    histogram_distributions,
    total_variation,
    tv_radius,
)
from keras_sqnn.validation import check_positive_int, check_same_length, encode_groups

if TYPE_CHECKING:
    import keras
    import pandas as pd

CERTIFIED_INFERENCE = ("sample", "threshold")
METHODS = ("auto", "exact", "monte_carlo")
DEFAULT_MAX_EXACT_UNITS = 16
"""Widest code whose 2**units values are enumerated (65,536 codes)."""
_EXACT_LIMIT = 24

PAIR_COLUMNS = ("condition", "group_a", "group_b", "n_a", "n_b", "plugin_tv", "radius", "bound")


@dataclass(frozen=True)
class Certificate:
    """An upper confidence bound on the unfairness of any classifier of a binary code.

    Attributes:
        bound: bound on the demographic-parity gap of any classifier of the code, for the
            worst pair of groups (the largest per-pair ``bound``), at ``confidence``.
        plugin_tv: the estimated total variation of that worst pair.
        equalized_odds_bound: with ``y``, the bound on the equalized-odds gap of any
            classifier of the code (the worst class and pair), else None.
        confidence: the probability with which every bound holds together.
        inference: the code certified, ``"sample"`` or ``"threshold"``.
        method: ``"exact"``, ``"monte_carlo"`` (``inference="sample"``) or
            ``"deterministic"`` (``inference="threshold"``).
        units: the code's width.
        group_sizes: rows per group (the group's label: a tuple for intersections).
        pairs: one row per statement: ``condition`` (``"all"``, or ``"y=<class>"``),
            ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``plugin_tv``, ``radius`` (the
            concentration term) and ``bound`` (``min(1, plugin_tv + radius)``).
    """

    bound: float
    plugin_tv: float
    equalized_odds_bound: float | None
    confidence: float
    inference: str
    method: str
    units: int
    group_sizes: dict[Any, int]
    pairs: list[dict[str, Any]] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The summary (not the pairs) as JSON-ready Python values."""
        return {
            "bound": self.bound,
            "plugin_tv": self.plugin_tv,
            "equalized_odds_bound": self.equalized_odds_bound,
            "confidence": self.confidence,
            "inference": self.inference,
            "method": self.method,
            "units": self.units,
            "group_sizes": {str(group): size for group, size in self.group_sizes.items()},
        }

    def pairs_frame(self) -> pd.DataFrame:
        """The per-pair statements as a DataFrame with :data:`PAIR_COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(self.pairs, columns=list(PAIR_COLUMNS))


def _check_theta(theta: ArrayLike) -> np.ndarray:
    array = np.asarray(theta, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            "Expected `theta` of shape (n, units) with n, units > 0. "
            f"Received: theta with shape {array.shape}"
        )
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        raise ValueError(
            "Expected `theta` to hold probabilities in [0, 1]. Received: theta with "
            f"{int(bad.sum())} values outside [0, 1] or not finite"
        )
    return array


def _check_options(inference: str, method: str, confidence: float) -> None:
    if inference == "expectation":
        raise ValueError(
            "No certificate exists for `inference='expectation'`: its output is theta, a "
            "continuous score that the code's distribution does not bound. Certify and serve "
            "the sampled code (`inference='sample'`) or the thresholded one "
            "(`inference='threshold'`). Received: inference='expectation'"
        )
    if inference not in CERTIFIED_INFERENCE:
        raise ValueError(
            f"Expected `inference` in {CERTIFIED_INFERENCE}. Received: inference={inference!r}"
        )
    if method not in METHODS:
        raise ValueError(f"Expected `method` in {METHODS}. Received: method={method!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise ValueError(f"Expected `confidence` in (0, 1). Received: confidence={confidence!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"Expected `confidence` in (0, 1). Received: confidence={confidence!r}")


def _resolve_method(inference: str, method: str, units: int, max_exact_units: int) -> str:
    if inference == "threshold":
        return "deterministic"
    if method == "auto":
        return "exact" if units <= max_exact_units else "monte_carlo"
    if method == "exact" and units > max_exact_units:
        raise ValueError(
            f"Expected at most `max_exact_units`={max_exact_units} units to enumerate all "
            f"2**units codes. Received: a code of {units} units; pass method='monte_carlo' "
            "(valid, but loose for wide codes: nearly every sampled code is unique) or certify "
            "a narrower layer"
        )
    return method


def _conditions(groups: np.ndarray, y: ArrayLike | None, n: int) -> list[tuple[str, np.ndarray]]:
    """``("all", all rows)`` and, with ``y``, ``("y=<class>", that class's rows)``."""
    conditions = [("all", np.ones(n, dtype=bool))]
    if y is not None:
        # One column of labels, none missing (NaN would silently form no class).
        codes, classes = encode_groups(np.asarray(y).reshape(-1), "y", min_groups=1)
        check_same_length(y=codes, sensitive_features=groups)
        conditions += [
            (f"y={_label(value)!r}", codes == index) for index, value in enumerate(classes)
        ]
    return conditions


def certify_probabilities(
    theta: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    y: ArrayLike | None = None,
    inference: str = "sample",
    confidence: float = 0.95,
    method: str = "auto",
    max_exact_units: int = DEFAULT_MAX_EXACT_UNITS,
    n_samples: int = 1,
    seed: int | None = 0,
) -> Certificate:
    """Certify the code of Bernoulli parameters ``theta``: see the module docstring.

    Args:
        theta: ``(n, units)`` Bernoulli parameters of held-out rows (a layer's
            ``probabilities``; :func:`certify` computes them from a model).
        sensitive_features: one group label per row, or ``(n, k)`` labels of k attributes
            (the groups are then their observed intersections). Two or more groups.
        y: optional labels; adds the equalized-odds statements, one per class.
        inference: the code served: ``"sample"`` (one draw from theta per decision) or
            ``"threshold"`` (``theta >= 0.5``).
        confidence: the probability that every bound holds, over the draw of the rows.
        method: for ``"sample"``, ``"exact"`` enumeration, ``"monte_carlo"`` histograms of
            ``n_samples`` sampled codes per row, or ``"auto"`` (exact up to
            ``max_exact_units`` units).
        max_exact_units: the widest code enumerated (at most 24).
        n_samples: codes drawn per row by ``"monte_carlo"``.
        seed: seeds the Monte-Carlo draws.

    Returns:
        A :class:`Certificate`.

    Example:
        >>> theta = np.full((1000, 3), 0.5)  # the code ignores the rows: TV is 0
        >>> s = np.repeat([0, 1], 500)
        >>> cert = certify_probabilities(theta, sensitive_features=s)
        >>> cert.plugin_tv, round(cert.bound, 4)  # only the concentration term remains
        (0.0, 0.0774)
    """
    _check_options(inference, method, confidence)
    max_exact_units = check_positive_int(max_exact_units, "max_exact_units")
    if max_exact_units > _EXACT_LIMIT:
        raise ValueError(
            f"Expected `max_exact_units` <= {_EXACT_LIMIT}. "
            f"Received: max_exact_units={max_exact_units}"
        )
    n_samples = check_positive_int(n_samples, "n_samples")
    theta = _check_theta(theta)
    group_ids, group_labels = encode_groups(sensitive_features)
    check_same_length(theta=theta, sensitive_features=group_ids)
    n, units = theta.shape
    resolved = _resolve_method(inference, method, units, max_exact_units)

    conditions = _conditions(group_ids, y, n)
    memberships = []  # (condition, group, rows)
    for name, rows in conditions:
        for g in range(len(group_labels)):
            memberships.append((name, g, rows & (group_ids == g)))
    weights = np.zeros((len(memberships), n))
    for r, (_, _, rows) in enumerate(memberships):
        if rows.any():
            weights[r, rows] = 1.0 / rows.sum()
    if resolved == "exact":
        distributions = exact_code_distributions(theta, weights)
    elif resolved == "deterministic":
        distributions = histogram_distributions((theta >= 0.5)[:, None, :], weights)
    else:
        rng = np.random.default_rng(seed)
        draws = rng.random((n, n_samples, units)) < theta[:, None, :]
        distributions = histogram_distributions(draws, weights)

    pairs_per_condition = list(combinations(range(len(group_labels)), 2))
    delta = (1.0 - confidence) / (len(pairs_per_condition) * len(conditions))
    index = {(name, g): r for r, (name, g, _) in enumerate(memberships)}
    pairs = []
    for name, _ in conditions:
        for a, b in pairs_per_condition:
            ra, rb = index[(name, a)], index[(name, b)]
            n_a, n_b = int(memberships[ra][2].sum()), int(memberships[rb][2].sum())
            plugin = (
                total_variation(distributions[ra], distributions[rb]) if n_a and n_b else math.nan
            )
            radius = tv_radius(n_a, n_b, delta)
            bound = 1.0 if not (n_a and n_b) else min(1.0, plugin + radius)
            pairs.append(
                {
                    "condition": name,
                    "group_a": _label(group_labels[a]),
                    "group_b": _label(group_labels[b]),
                    "n_a": n_a,
                    "n_b": n_b,
                    "plugin_tv": plugin,
                    "radius": radius,
                    "bound": bound,
                }
            )
    overall = [pair for pair in pairs if pair["condition"] == "all"]
    worst = max(overall, key=lambda pair: pair["bound"])
    by_class = [pair for pair in pairs if pair["condition"] != "all"]
    return Certificate(
        bound=float(worst["bound"]),
        plugin_tv=float(worst["plugin_tv"]),
        equalized_odds_bound=max(pair["bound"] for pair in by_class) if by_class else None,
        confidence=float(confidence),
        inference=inference,
        method=resolved,
        units=units,
        group_sizes={
            _label(label): int(np.sum(group_ids == g)) for g, label in enumerate(group_labels)
        },
        pairs=pairs,
    )


def _label(value: Any) -> Any:
    """A group label as a plain Python value (tuples stay tuples)."""
    return value.item() if isinstance(value, np.generic) else value


def certify(
    model: keras.Model,
    x: Any,
    *,
    sensitive_features: ArrayLike,
    y: ArrayLike | None = None,
    layer: str | keras.layers.Layer | None = None,
    inference: str = "sample",
    confidence: float = 0.95,
    method: str = "auto",
    max_exact_units: int = DEFAULT_MAX_EXACT_UNITS,
    n_samples: int = 1,
    seed: int | None = 0,
    batch_size: int = 4096,
) -> Certificate:
    """Certify a trained model's stochastic binary code on held-out rows.

    Computes the layer's theta for ``x`` (:func:`~keras_sqnn.metrics.layer_probabilities`)
    and calls :func:`certify_probabilities`. The bound covers every classifier that reads
    only the layer's code, drawn (``"sample"``) or thresholded (``"threshold"``) as at
    serving: the model's own decisions when it is served with that inference mode
    (:func:`keras_sqnn.export.with_inference`) and its head reads nothing but the code.

    Args:
        model: the trained model.
        x: held-out inputs, as ``model.predict`` takes them (rows not used in training or
            selection; the bound assumes them i.i.d. from the population).
        sensitive_features: one group label per row, or ``(n, k)`` labels.
        y: optional labels, for the equalized-odds statements.
        layer: the stochastic binary layer or its name; default: the last one
            (:func:`~keras_sqnn.metrics.find_representation_layer`).
        inference, confidence, method, max_exact_units, n_samples, seed: see
            :func:`certify_probabilities`.
        batch_size: rows per forward pass.

    Returns:
        A :class:`Certificate`.

    Example:
        >>> import keras
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> model = keras.Sequential([keras.Input((2,)), StochasticBinaryDense(2, name="t")])
        >>> x = np.random.default_rng(0).normal(size=(400, 2))
        >>> cert = certify(model, x, sensitive_features=x[:, 0] > 0)
        >>> cert.method, cert.units, cert.bound <= 1.0
        ('exact', 2, True)
    """
    from keras_sqnn.metrics.evaluate import find_representation_layer
    from keras_sqnn.metrics.information_probe import layer_probabilities

    _check_options(inference, method, confidence)
    if layer is None:
        layer = find_representation_layer(model)
        if layer is None:
            raise ValueError(
                "Expected `model` to hold a stochastic binary layer to certify. Received: "
                f"model {model.name!r} with none at its top level"
            )
    theta = layer_probabilities(model, x, layer, batch_size=batch_size)
    return certify_probabilities(
        theta,
        sensitive_features=sensitive_features,
        y=y,
        inference=inference,
        confidence=confidence,
        method=method,
        max_exact_units=max_exact_units,
        n_samples=n_samples,
        seed=seed,
    )


__all__ = [
    "CERTIFIED_INFERENCE",
    "DEFAULT_MAX_EXACT_UNITS",
    "PAIR_COLUMNS",
    "Certificate",
    "certify",
    "certify_probabilities",
    "exact_code_distributions",
    "histogram_distributions",
    "total_variation",
    "tv_radius",
]
