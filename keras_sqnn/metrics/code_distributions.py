"""The code distributions of groups of rows, and their total variation: the certificate's maths.

Pure NumPy functions behind :mod:`keras_sqnn.metrics.certificate`: each row's exact
distribution over the ``2**units`` codes of independent Bernoulli units, averaged per group
(:func:`exact_code_distributions`), histograms of observed codes
(:func:`histogram_distributions`), the total variation between two distributions and
McDiarmid's concentration term for it (:func:`tv_radius`).
"""

from __future__ import annotations

import math

import numpy as np

# float32 theta saturates at 0 and 1; the clip changes each row's code distribution by at
# most 2 * units * 1e-12 in L1 norm.
_THETA_CLIP = 1e-12
# Rows x codes per block of the exact enumeration (128 MiB of float64).
_BLOCK_ELEMENTS = 2**24


def tv_radius(n_a: int, n_b: int, delta: float) -> float:
    """McDiarmid's term: ``sqrt(ln(1 / delta) * (1 / n_a + 1 / n_b) / 2)``.

    Example:
        >>> round(tv_radius(5400, 10900, 0.05), 4)
        0.0204
    """
    if n_a < 1 or n_b < 1:
        return math.inf
    return math.sqrt(math.log(1.0 / delta) * (1.0 / n_a + 1.0 / n_b) / 2.0)


def all_codes(units: int) -> np.ndarray:
    """The ``2**units`` binary codes as rows; row ``c`` holds the bits of ``c``, lowest first."""
    return ((np.arange(2**units)[:, None] >> np.arange(units)) & 1).astype(np.float64)


def exact_code_distributions(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ P``, where ``P[i, c]`` is row i's probability of code c (:func:`all_codes`).

    Args:
        theta: ``(n, units)`` Bernoulli parameters.
        weights: ``(k, n)`` averaging weights (row r: ``1 / n_s`` on the rows of group s).

    Returns:
        ``(k, 2**units)`` code distributions, computed in blocks of codes: the codes'
        log-probabilities are one matrix product per block.
    """
    theta = np.clip(theta.astype(np.float64), _THETA_CLIP, 1.0 - _THETA_CLIP)
    n, units = theta.shape
    log_off = np.log1p(-theta)
    slopes = np.log(theta) - log_off  # log P(t | x) = t . slopes + sum(log_off)
    offsets = log_off.sum(axis=1, keepdims=True)
    codes = all_codes(units)
    result = np.empty((weights.shape[0], codes.shape[0]))
    block = max(1, _BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, codes.shape[0], block):
        log_p = slopes @ codes[start : start + block].T + offsets
        result[:, start : start + block] = weights @ np.exp(log_p)
    return result


def histogram_distributions(codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Code distributions from observed codes: ``(k, cells)`` over the distinct codes seen.

    Args:
        codes: ``(n, draws, units)`` binary codes, ``draws`` per row.
        weights: ``(k, n)`` averaging weights; each row's draws share its weight equally.
    """
    n, draws, units = codes.shape
    packed = np.packbits(codes.reshape(n * draws, units).astype(np.uint8), axis=1)
    _, cells = np.unique(packed, axis=0, return_inverse=True)
    cells = cells.reshape(-1)
    result = np.zeros((weights.shape[0], int(cells.max()) + 1))
    for r in range(weights.shape[0]):
        result[r] = np.bincount(
            cells, weights=np.repeat(weights[r] / draws, draws), minlength=result.shape[1]
        )
    return result


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """``1/2 * sum |p - q|``: the largest gap in probability of any event."""
    return float(0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


__all__ = [
    "all_codes",
    "exact_code_distributions",
    "histogram_distributions",
    "total_variation",
    "tv_radius",
]
