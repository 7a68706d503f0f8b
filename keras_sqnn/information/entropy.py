"""Entropies in bits of Bernoulli and categorical distributions (0 log 0 = 0)."""

from __future__ import annotations

import math
from typing import Any

from keras import ops

LN2 = math.log(2.0)
TINY = 1e-30

Tensor = Any


def bernoulli_entropy(p: Tensor) -> Tensor:
    """Entropy in bits of Bernoulli(p), elementwise; exactly 0 at p = 0 and p = 1.

    Args:
        p: probabilities in [0, 1].

    Returns:
        ``-p log2 p - (1 - p) log2 (1 - p)`` with the limit 0 at the end points (no NaN, and a
        finite gradient everywhere).

    Example:
        >>> float(bernoulli_entropy(0.5))
        1.0
    """
    p = ops.convert_to_tensor(p, dtype="float32")
    q = 1.0 - p
    return -(xlogx(p) + xlogx(q)) / LN2


def xlogx(p):
    """``p * log(p)``: 0 at p = 0 with a finite gradient there, and NaN stays NaN.

    ``p + TINY`` equals ``p`` in float32 for every p >= 1e-22, so only the limit at 0 moves.
    """
    return p * ops.log(p + TINY)


def categorical_entropy(probs: Tensor, axis: int = -1) -> Tensor:
    """Entropy in bits of categorical distributions laid along ``axis`` (0 log 0 = 0)."""
    probs = ops.convert_to_tensor(probs, dtype="float32")
    return -ops.sum(xlogx(probs), axis=axis) / LN2


def bernoulli_entropy_slope(p):
    """``d h(p) / dp`` in bits, exactly as autodiff differentiates :func:`bernoulli_entropy`."""
    q = 1.0 - p
    return (ops.log(q + TINY) + q / (q + TINY) - ops.log(p + TINY) - p / (p + TINY)) / LN2
