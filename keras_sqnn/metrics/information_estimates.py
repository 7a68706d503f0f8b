"""Information of binary codes about integer labels, in bits, from NumPy arrays.

The estimators behind :func:`~keras_sqnn.metrics.information_report`, usable on their own:
plug-in (histogram) entropy and MI of sampled codes (:func:`plugin_entropy`,
:func:`plugin_mutual_information`), codes sampled from a layer's Bernoulli parameters
(:func:`sample_codes`), and the MI of the mixture over examples, exact or from sampled codes
(:func:`mixture_mutual_information`). They take NumPy arrays of any size (in chunks) and
return floats; the model probe is :mod:`keras_sqnn.metrics.information_probe`.
"""

from __future__ import annotations

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn import information
from keras_sqnn.validation import check_1d, check_positive_int, check_same_length

DEFAULT_CHUNK_SIZE = 512
"""Sampled codes per step of the sampled mixture estimator (memory O(chunk * n))."""

# Code probabilities held at once by the exact estimator: rows * 2**units <= this.
_EXACT_CHUNK_ELEMENTS = 2**22


def encode_labels(values: ArrayLike, name: str) -> tuple[np.ndarray, int]:
    """Integer labels (of S or Y) as codes ``0 .. K - 1``, and K.

    Booleans, integers and integer-valued floats are accepted; the MI does not depend on
    how the labels are numbered.

    Args:
        values: 1-D array-like of integer labels, shape ``(n,)`` or ``(n, 1)``.
        name: argument name used in error messages.

    Returns:
        ``(codes, num_labels)``: ``int64`` codes of shape ``(n,)`` and the number of
        distinct labels.

    Example:
        >>> codes, k = encode_labels([3, 7, 3], "s")
        >>> codes.tolist(), k
        ([0, 1, 0], 2)
    """
    array = check_1d(values, name)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        safe = np.where(finite, array, 0.0)
        bad = array[~finite | (safe != np.round(safe))]
        if bad.size:
            raise ValueError(
                f"Expected `{name}` to hold integer labels. Received: {name} with "
                f"{bad.size} non-integer values, e.g. {bad[0].item()!r}"
            )
    elif array.dtype.kind not in "biu":
        raise ValueError(
            f"Expected `{name}` to hold integer labels (encode other labels with "
            f"numpy.unique(..., return_inverse=True)). Received: {name} with "
            f"dtype={array.dtype}"
        )
    _, codes = np.unique(array, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    return codes, int(codes.max()) + 1


def entropy_of_ids(ids: np.ndarray) -> float:
    """Plug-in entropy in bits of non-negative integer ids (codes from :func:`code_ids`)."""
    counts = np.bincount(ids)
    p = counts[counts > 0] / ids.size
    return float(-(p * np.log2(p)).sum())


def code_ids(codes: np.ndarray) -> np.ndarray:
    """One integer id per distinct row of a binary code matrix."""
    packed = np.packbits(codes.astype(bool, copy=False), axis=1)
    _, ids = np.unique(packed, axis=0, return_inverse=True)
    return ids.reshape(-1).astype(np.int64)


def _check_codes(codes: ArrayLike) -> np.ndarray:
    array = np.asarray(codes)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            "Expected `codes` of shape (n, units) with n > 0. "
            f"Received: codes with shape {array.shape}"
        )
    array = array.reshape(array.shape[0], -1)
    if not np.isin(array, [0, 1]).all():
        raise ValueError(
            "Expected `codes` to hold binary values 0/1. "
            f"Received: codes with values {np.unique(array)[:5].tolist()}"
        )
    return array.astype(bool)


def plugin_entropy(codes: ArrayLike) -> float:
    """Plug-in (histogram) entropy ``H(T)`` in bits of observed binary codes.

    Counts the distinct rows with ``numpy.unique(..., axis=0)``: ``O(N log N)`` time and
    ``O(N)`` memory, so it takes millions of codes.

    Args:
        codes: ``(N, units)`` array of 0/1 codes.

    Returns:
        ``-sum_t p(t) log2 p(t)`` over the empirical code frequencies.

    Example:
        >>> plugin_entropy([[0, 0], [0, 1], [1, 0], [1, 1]])
        2.0
    """
    return entropy_of_ids(code_ids(_check_codes(codes)))


def plugin_mutual_information(codes: ArrayLike, labels: ArrayLike) -> float:
    """Plug-in (histogram) ``I(T; L)`` in bits of observed binary codes and integer labels.

    The paper's ``BinaryMI`` counting estimator, as ``H(T) + H(L) - H(T, L)`` of the
    empirical frequencies, with ``numpy.unique`` instead of the ``(N, N)`` code-equality
    matrix of :func:`keras_sqnn.information.counting_mutual_information`, so that it takes
    ``n * n_samples`` codes. Biased upwards by about ``(|T| - 1)(|L| - 1) / (2 N ln 2)``
    bits (``|T|`` distinct codes, ``|L|`` labels, ``N`` rows).

    Args:
        codes: ``(N, units)`` array of 0/1 codes.
        labels: ``(N,)`` integer labels.

    Returns:
        The estimate, a float (0 up to rounding when T and L are independent in the sample).

    Example:
        >>> codes = [[0, 0], [1, 1], [0, 1], [1, 0]]
        >>> plugin_mutual_information(codes, [0, 0, 1, 1])  # T1 XOR T2 = L
        1.0
    """
    array = _check_codes(codes)
    label_codes, num_labels = encode_labels(labels, "labels")
    check_same_length(codes=array, labels=label_codes)
    return plugin_mutual_information_of_ids(code_ids(array), label_codes, num_labels)


def plugin_mutual_information_of_ids(ids: np.ndarray, labels: np.ndarray, num_labels: int) -> float:
    """Plug-in ``I(T; L)`` in bits from code ids (:func:`code_ids`) and labels ``0 .. K - 1``."""
    joint = ids * num_labels + labels
    return entropy_of_ids(ids) + entropy_of_ids(labels) - entropy_of_ids(joint)


def sample_codes(
    theta: ArrayLike, n_samples: int, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """``n_samples`` binary codes per example, ``T ~ Bernoulli(theta)``, with NumPy.

    Does not touch any layer's seed generator, so probing a model leaves its state as is.

    Args:
        theta: ``(n, units)`` Bernoulli parameters.
        n_samples: codes per example, >= 1.
        seed: seed or ``numpy.random.Generator``.

    Returns:
        ``(n_samples * n, units)`` boolean codes, sample-major: row ``j`` was drawn from
        ``theta[j % n]``.

    Example:
        >>> sample_codes([[0.0, 1.0]], 3, seed=0).astype(int).tolist()
        [[0, 1], [0, 1], [0, 1]]
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    array = np.asarray(theta, dtype=np.float32)
    array = array.reshape(array.shape[0], -1)
    rng = np.random.default_rng(seed)
    # One sample at a time: peak memory is one float array of theta's size.
    samples = [rng.random(array.shape, dtype=np.float32) < array for _ in range(n_samples)]
    return np.concatenate(samples)


def _group_sums(values: np.ndarray, labels: np.ndarray, num_labels: int) -> np.ndarray:
    one_hot = np.zeros((labels.size, num_labels))
    one_hot[np.arange(labels.size), labels] = 1.0
    return one_hot.T @ values.astype(np.float64)


def _exact_mixture_mi(theta: np.ndarray, labels: np.ndarray, num_labels: int) -> float:
    units = theta.shape[1]
    rows = max(1, _EXACT_CHUNK_ELEMENTS >> units)
    sums = np.zeros((num_labels, 2**units))
    for start in range(0, theta.shape[0], rows):
        probabilities = keras.ops.convert_to_numpy(
            information.code_probabilities(theta[start : start + rows])
        )
        sums += _group_sums(probabilities, labels[start : start + rows], num_labels)
    counts = np.bincount(labels, minlength=num_labels).astype(np.float32)
    value = information.exact_joint_mutual_information_from_sums(counts, sums.astype(np.float32))
    return float(keras.ops.convert_to_numpy(value))


def _sampled_mixture_mi(
    theta: np.ndarray, codes: np.ndarray, labels: np.ndarray, num_labels: int, chunk_size: int
) -> float:
    n = theta.shape[0]
    reference_theta = keras.ops.convert_to_tensor(theta, dtype="float32")
    reference_labels = keras.ops.convert_to_tensor(labels.astype(np.int32))
    code_labels = np.tile(labels.astype(np.int32), codes.shape[0] // n)
    total = 0.0
    for start in range(0, codes.shape[0], chunk_size):
        terms = information.sampled_joint_terms(
            codes[start : start + chunk_size].astype(np.float32),
            code_labels[start : start + chunk_size],
            reference_theta,
            reference_labels,
            num_labels,
        )
        total += float(np.sum(keras.ops.convert_to_numpy(terms), dtype=np.float64))
    return total / codes.shape[0]


def mixture_mutual_information(
    theta: ArrayLike,
    labels: ArrayLike,
    codes: ArrayLike | None = None,
    *,
    max_exact_units: int = information.DEFAULT_MAX_EXACT_UNITS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> float:
    """``I(T; L)`` in bits of the mixture over examples, exact or from sampled codes.

    With ``p(t | x) = prod_i Bernoulli(t_i; theta_i(x))`` and the examples as the
    distribution of X, ``p(t | l)`` and ``p(t)`` are mixtures over the examples. Up to
    ``max_exact_units`` units the MI is computed exactly by enumerating the ``2**units``
    codes (in chunks of examples, memory ``O(2**22)`` floats); above, as the mean of
    ``log2 p(t_j | l_j) - log2 p(t_j)`` over the sampled ``codes`` (unbiased given the
    examples; time ``O(len(codes) * n * units)``, memory ``O(chunk_size * n)``).

    Args:
        theta: ``(n, ...)`` Bernoulli parameters, flattened to ``(n, units)``.
        labels: ``(n,)`` integer labels (S or Y).
        codes: ``(n_samples * n, units)`` codes from :func:`sample_codes` (row ``j`` drawn
            from ``theta[j % n]``); needed only above ``max_exact_units`` units.
        max_exact_units: widest layer enumerated exactly.
        chunk_size: codes per step of the sampled estimate.

    Returns:
        The MI in bits.

    Example:
        >>> theta = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
        >>> round(mixture_mutual_information(theta, [0, 0, 1, 1]), 6)  # L = T1 XOR T2
        1.0
    """
    array = np.asarray(theta, dtype=np.float32)
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            f"Expected `theta` of shape (n, units) with n > 0. Received: theta with shape "
            f"{array.shape}"
        )
    array = array.reshape(array.shape[0], -1)
    if not (np.isfinite(array).all() and array.min() >= 0.0 and array.max() <= 1.0):
        raise ValueError(
            "Expected `theta` to hold probabilities in [0, 1]. Received: theta with values "
            f"in [{np.nanmin(array)}, {np.nanmax(array)}] and "
            f"{int(np.sum(~np.isfinite(array)))} non-finite values"
        )
    label_codes, num_labels = encode_labels(labels, "labels")
    check_same_length(theta=array, labels=label_codes)
    max_exact_units = check_positive_int(max_exact_units, "max_exact_units", minimum=0)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if array.shape[1] <= max_exact_units:
        return _exact_mixture_mi(array, label_codes, num_labels)
    if codes is None:
        raise ValueError(
            f"Expected `codes` (from sample_codes) for a layer of {array.shape[1]} units, "
            f"above max_exact_units={max_exact_units}. Received: codes=None"
        )
    code_array = _check_codes(codes)
    if code_array.shape[1] != array.shape[1] or code_array.shape[0] % array.shape[0]:
        raise ValueError(
            "Expected `codes` of shape (n_samples * n, units) with "
            f"n={array.shape[0]}, units={array.shape[1]}. Received: codes with shape "
            f"{code_array.shape}"
        )
    return _sampled_mixture_mi(array, code_array, label_codes, num_labels, chunk_size)


def sum_unit_mutual_information(theta: np.ndarray, labels: np.ndarray, num_labels: int) -> float:
    """``sum_i I(T_i; S)`` in bits (the paper's ``BinaryBernoulli``) of ``(n, units)`` theta."""
    counts = np.bincount(labels, minlength=num_labels).astype(np.float32)
    sums = _group_sums(theta, labels, num_labels).astype(np.float32)
    per_unit = information.per_unit_mutual_information_from_sums(counts, sums)
    return float(np.sum(keras.ops.convert_to_numpy(per_unit), dtype=np.float64))


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "code_ids",
    "encode_labels",
    "entropy_of_ids",
    "mixture_mutual_information",
    "plugin_entropy",
    "plugin_mutual_information",
    "plugin_mutual_information_of_ids",
    "sample_codes",
    "sum_unit_mutual_information",
]
