"""Tests of the certificate: exact values by brute force, coverage on a known population."""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.metrics import (
    certify,
    certify_probabilities,
    fare_tv_bound,
    layer_probabilities,
)
from keras_sqnn.metrics.certificate import tv_radius
from keras_sqnn.models import SensitiveSequential


def brute_force_distribution(theta: np.ndarray) -> dict[tuple[int, ...], float]:
    """The code distribution of the mixture of the rows' Bernoulli vectors, code by code."""
    distribution = {}
    for code in itertools.product((0, 1), repeat=theta.shape[1]):
        per_row = [
            math.prod(t if bit else 1 - t for t, bit in zip(row, code, strict=True))
            for row in theta
        ]
        distribution[code] = sum(per_row) / len(per_row)
    return distribution


def brute_force_tv(theta_a: np.ndarray, theta_b: np.ndarray) -> float:
    p, q = brute_force_distribution(theta_a), brute_force_distribution(theta_b)
    return 0.5 * sum(abs(p[code] - q[code]) for code in p)


def test_plugin_tv_equals_brute_force_for_every_pair_and_class():
    rng = np.random.default_rng(0)
    theta = rng.random((60, 3))
    s = rng.choice(["a", "b", "c"], size=60)
    y = rng.integers(0, 2, size=60)
    cert = certify_probabilities(theta, sensitive_features=s, y=y)
    assert len(cert.pairs) == 3 * 3  # 3 pairs, for all rows and for each of 2 classes
    for pair in cert.pairs:
        rows = np.ones(60, bool) if pair["condition"] == "all" else y == int(pair["condition"][2:])
        expected = brute_force_tv(
            theta[rows & (s == pair["group_a"])], theta[rows & (s == pair["group_b"])]
        )
        assert pair["plugin_tv"] == pytest.approx(expected, abs=1e-12)
        # Nine statements share delta = 0.05: each uses 0.05 / 9.
        assert pair["radius"] == pytest.approx(tv_radius(pair["n_a"], pair["n_b"], 0.05 / 9))
        assert pair["bound"] == pytest.approx(min(1.0, pair["plugin_tv"] + pair["radius"]))
    overall = [pair for pair in cert.pairs if pair["condition"] == "all"]
    assert cert.bound == max(pair["bound"] for pair in overall)
    assert cert.equalized_odds_bound == max(
        pair["bound"] for pair in cert.pairs if pair["condition"] != "all"
    )
    assert cert.group_sizes == {label: int(np.sum(s == label)) for label in "abc"}


def test_threshold_code_is_the_histogram_of_theta_at_one_half():
    rng = np.random.default_rng(1)
    theta = rng.random((500, 4))
    s = rng.integers(0, 2, size=500)
    cert = certify_probabilities(theta, sensitive_features=s, inference="threshold")
    codes = [tuple(row) for row in (theta >= 0.5).astype(int)]
    p = {code: 0.0 for code in itertools.product((0, 1), repeat=4)}
    q = dict(p)
    for code, group in zip(codes, s, strict=True):
        (p if group == 0 else q)[code] += 1 / np.sum(s == group)
    assert cert.method == "deterministic"
    assert cert.plugin_tv == pytest.approx(0.5 * sum(abs(p[c] - q[c]) for c in p), abs=1e-12)


def test_intersectional_groups_are_the_observed_combinations():
    rng = np.random.default_rng(2)
    s = np.stack([rng.integers(0, 2, 300), rng.integers(0, 3, 300)], axis=1)
    s[s[:, 0] == 1, 1] = np.minimum(s[s[:, 0] == 1, 1], 1)  # (1, 2) never occurs
    theta = np.clip(0.2 + 0.2 * s[:, :1] + 0.1 * s[:, 1:], 0, 1) * np.ones((1, 2))
    cert = certify_probabilities(theta, sensitive_features=s)
    assert set(cert.group_sizes) == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)}
    assert len(cert.pairs) == 10
    # The rows of a group share one theta, so its distribution is that product's.
    pair = next(p for p in cert.pairs if (p["group_a"], p["group_b"]) == ((0, 0), (1, 1)))
    assert pair["plugin_tv"] == pytest.approx(
        brute_force_tv(np.array([[0.2, 0.2]]), np.array([[0.5, 0.5]])), abs=1e-12
    )


def test_monte_carlo_approaches_the_exact_plugin_from_above():
    rng = np.random.default_rng(3)
    theta = rng.random((400, 3))
    s = np.repeat([0, 1], 200)
    exact = certify_probabilities(theta, sensitive_features=s)
    sampled = certify_probabilities(
        theta, sensitive_features=s, method="monte_carlo", n_samples=2000, seed=0
    )
    assert sampled.method == "monte_carlo" and exact.method == "exact"
    # 800,000 draws over 8 cells per group: each cell's frequency is within ~0.001 (one
    # standard error ~ sqrt(0.25 / 400,000)) of the exact mixture, so TV within ~0.01.
    assert sampled.plugin_tv == pytest.approx(exact.plugin_tv, abs=0.01)
    assert sampled.bound == pytest.approx(exact.bound, abs=0.01)


def test_auto_switches_to_monte_carlo_above_max_exact_units():
    theta = np.full((100, 5), 0.5)
    s = np.repeat([0, 1], 50)
    assert certify_probabilities(theta, sensitive_features=s, max_exact_units=4).method == (
        "monte_carlo"
    )
    with pytest.raises(ValueError, match="max_exact_units`=4"):
        certify_probabilities(theta, sensitive_features=s, method="exact", max_exact_units=4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"inference": "expectation"}, "No certificate exists for `inference='expectation'`"),
        ({"inference": "mean"}, "inference='mean'"),
        ({"confidence": 1.0}, "confidence=1.0"),
        ({"method": "brute"}, "method='brute'"),
        ({"max_exact_units": 30}, "max_exact_units=30"),
        ({"n_samples": 0}, "n_samples"),
    ],
)
def test_bad_options_get_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        certify_probabilities(np.full((4, 2), 0.5), sensitive_features=[0, 0, 1, 1], **kwargs)


def test_bad_data_gets_a_clear_error():
    with pytest.raises(ValueError, match="theta with 1 values outside"):
        certify_probabilities(np.array([[0.5], [1.5]]), sensitive_features=[0, 1])
    with pytest.raises(ValueError, match="at least 2 groups"):
        certify_probabilities(np.full((3, 2), 0.5), sensitive_features=[1, 1, 1])
    with pytest.raises(ValueError, match="same length"):
        certify_probabilities(np.full((3, 2), 0.5), sensitive_features=[0, 1])
    with pytest.raises(ValueError, match="`y` to have no missing values"):
        certify_probabilities(
            np.full((3, 2), 0.5), sensitive_features=[0, 1, 0], y=[1.0, np.nan, 0.0]
        )


class Population:
    """Rows whose latent type x picks theta(x); the groups differ in how often each x occurs.

    The groups' code distributions are known exactly: ``p_s = sum_x pi_s(x) P(. | theta(x))``.
    """

    def __init__(self, units: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.theta = rng.uniform(0.05, 0.95, size=(6, units))
        self.priors = np.array(
            [[0.30, 0.25, 0.20, 0.10, 0.10, 0.05], [0.10, 0.15, 0.20, 0.20, 0.15, 0.20]]
        )

    def true_tv(self, inference: str) -> float:
        if inference == "threshold":
            codes = [tuple(row) for row in (self.theta >= 0.5).astype(int)]
            cells = {code: np.zeros(2) for code in codes}
            for code, weights in zip(codes, self.priors.T, strict=True):
                cells[code] += weights
            return 0.5 * sum(abs(p[0] - p[1]) for p in cells.values())
        per_type = [brute_force_distribution(row[None, :]) for row in self.theta]
        return 0.5 * sum(
            abs(sum((self.priors[0, x] - self.priors[1, x]) * per_type[x][code] for x in range(6)))
            for code in per_type[0]
        )

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = (rng.random(n) < 0.35).astype(int)
        types = np.array([rng.choice(6, p=self.priors[group]) for group in s])
        return self.theta[types], s


def test_coverage_on_a_population_with_known_tv(capsys):
    population = Population(units=4)
    truth = {mode: population.true_tv(mode) for mode in ("sample", "threshold")}
    rng = np.random.default_rng(4)
    draws, n = 200, 1500
    covered = {"sample": 0, "threshold": 0, "fare": 0, "plugin": 0}
    slack = {"sample": [], "threshold": [], "fare": []}
    for _ in range(draws):
        theta, s = population.draw(n, rng)
        for mode in ("sample", "threshold"):
            cert = certify_probabilities(theta, sensitive_features=s, inference=mode)
            covered[mode] += cert.bound >= truth[mode]
            slack[mode].append(cert.bound - truth[mode])
            if mode == "sample":
                covered["plugin"] += cert.plugin_tv >= truth[mode]
        codes = (rng.random(theta.shape) < theta).astype(int)  # the codes served
        fare = fare_tv_bound(codes, sensitive_features=s)
        covered["fare"] += fare >= truth["sample"]
        slack["fare"].append(fare - truth["sample"])
    rates = {name: float(count / draws) for name, count in covered.items()}
    with capsys.disabled():
        print(
            f"\n[certificate coverage] true TV sample {truth['sample']:.4f}, threshold "
            f"{truth['threshold']:.4f}; rates {rates}; mean slack "
            f"{ {name: round(float(np.mean(v)), 4) for name, v in slack.items()} }"
        )
    # The bounds are stated at 95 %; McDiarmid and Clopper-Pearson are conservative, so the
    # observed rate over 200 draws sits near 1 (a 95 %-exact bound would miss ~10 times).
    assert rates["sample"] >= 0.95
    assert rates["threshold"] >= 0.95
    assert rates["fare"] >= 0.95
    # Without the concentration term the plug-in misses often: the radius is what covers.
    assert rates["plugin"] < 0.9


def small_model(units: int = 3) -> SensitiveSequential:
    model = SensitiveSequential()
    model.add(keras.Input((4,)))
    model.add(keras.layers.Dense(8, activation="relu"))
    model.add(StochasticBinaryDense(units, mi_estimator="bernoulli", gamma=0.1, name="code"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model


def test_certify_reads_the_models_layer():
    keras.utils.set_random_seed(0)
    model = small_model()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4)).astype("float32")
    s = (x[:, 0] > 0).astype(int)
    cert = certify(model, x, sensitive_features=s, y=x[:, 1] > 0)
    expected = certify_probabilities(
        layer_probabilities(model, x, "code"), sensitive_features=s, y=x[:, 1] > 0
    )
    assert cert.as_dict() == expected.as_dict()
    assert cert.units == 3 and cert.equalized_odds_bound is not None
    with pytest.raises(ValueError, match="no certificate|No certificate"):
        certify(model, x, sensitive_features=s, inference="expectation")


def test_certify_needs_a_stochastic_layer():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="stochastic binary layer to certify"):
        certify(model, np.zeros((4, 2)), sensitive_features=[0, 1, 0, 1])
