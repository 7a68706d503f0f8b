"""Synthetic data where S is strongly correlated with one feature, and y partly through it."""

from __future__ import annotations

import numpy as np


def biased_data(n: int = 800, features: int = 6, seed: int = 0):
    """``x0 = 2 s + N(0, 1)``, other features N(0, 1); ``y = [x0 + x1 + N(0, 1) > 1]``.

    P(y=1 | s=0) is about 0.28 and P(y=1 | s=1) about 0.72, so an unconstrained classifier
    has large group gaps (AUDC of a calibrated one about 0.44), while ``x1`` still carries
    information about y that is independent of S.
    """
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n).astype("int32")
    x = rng.normal(size=(n, features)).astype("float32")
    x[:, 0] += 2.0 * s
    y = (x[:, 0] + x[:, 1] + rng.normal(size=n) > 1.0).astype("int32")
    return x, y, s
