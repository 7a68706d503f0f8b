"""The certificate against FARE's bound, and its speed at Adult's size.

A simulated population with known code distributions: each row has one of six latent
types x (the groups differ in how often each occurs) and the code of type x is
Bernoulli(theta(x)). For 4, 8, 12 and 16 units, ``rounds`` independent draws of ``rows``
rows (Adult's test split: 16,281 rows, about a third in the smaller group) are certified at
95 % by :func:`keras_sqnn.metrics.certify_probabilities` (per-row exact code probabilities,
McDiarmid) and by FARE's recipe (:func:`keras_sqnn.metrics.fare_tv_bound`: Clopper-Pearson
per cell and group prior on one sampled code per row). Prints a markdown table: the true
total variation, each bound's mean and how often it covered the truth, and the seconds one
16-unit certificate takes.

    python benchmarks/certificate_bounds.py [--rows 16281] [--rounds 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from keras_sqnn.metrics import certify_probabilities, fare_tv_bound
from keras_sqnn.metrics.certificate import exact_code_distributions, total_variation

PRIORS = np.array([[0.30, 0.25, 0.20, 0.10, 0.10, 0.05], [0.10, 0.15, 0.20, 0.20, 0.15, 0.20]])
SMALLER_GROUP = 0.33


def population(units: int, seed: int) -> tuple[np.ndarray, float]:
    """The six types' theta and the groups' true TV."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.02, 0.98, size=(6, units))
    groups = exact_code_distributions(theta, PRIORS)
    return theta, total_variation(groups[0], groups[1])


def draw(theta: np.ndarray, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    s = (rng.random(rows) < SMALLER_GROUP).astype(int)
    cumulative = PRIORS.cumsum(axis=1)[s]
    types = (rng.random((rows, 1)) > cumulative).sum(axis=1)
    return theta[types], s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16_281)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--units", type=int, nargs="+", default=[4, 8, 12, 16])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"rows {args.rows}, {args.rounds} draws per width, confidence 0.95")
    print(
        "| units | true TV | ours: plug-in | ours: bound | ours covered | FARE bound "
        "| FARE covered | tighter |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for units in args.units:
        theta, truth = population(units, seed=units)
        plugin, ours, fare = [], [], []
        for _ in range(args.rounds):
            rows_theta, s = draw(theta, args.rows, rng)
            cert = certify_probabilities(rows_theta, sensitive_features=s)
            codes = (rng.random(rows_theta.shape) < rows_theta).astype(int)
            plugin.append(cert.plugin_tv)
            ours.append(cert.bound)
            fare.append(fare_tv_bound(codes, sensitive_features=s))
        tighter = "ours" if np.mean(ours) < np.mean(fare) else "FARE"
        print(
            f"| {units} | {truth:.4f} | {np.mean(plugin):.4f} | {np.mean(ours):.4f} | "
            f"{np.mean(np.array(ours) >= truth):.2f} | {np.mean(fare):.4f} | "
            f"{np.mean(np.array(fare) >= truth):.2f} | {tighter} |"
        )
    theta, _ = population(16, seed=16)
    rows_theta, s = draw(theta, args.rows, rng)
    labels = rng.integers(0, 2, size=args.rows)
    started = time.perf_counter()
    certify_probabilities(rows_theta, sensitive_features=s)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    certify_probabilities(rows_theta, sensitive_features=s, y=labels)
    with_y = time.perf_counter() - started
    print(
        f"one 16-unit certificate of {args.rows} rows: {alone:.1f} s "
        f"({with_y:.1f} s with y, two classes)"
    )


if __name__ == "__main__":
    main()
