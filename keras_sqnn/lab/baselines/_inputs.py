"""Shared argument checks of the baseline models."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from keras_sqnn.models import split_inputs  # noqa: F401  (re-exported for the baselines)
from keras_sqnn.validation import check_positive_int


def check_units(value: Any, name: str, allow_empty: bool = False) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or (not value and not allow_empty):
        raise ValueError(
            f"Expected `{name}` to be a {'' if allow_empty else 'non-empty '}sequence of "
            f"positive integers. Received: {name}={value!r}"
        )
    return tuple(check_positive_int(units, name) for units in value)


def check_non_negative(value: Any, name: str, maximum: float | None = None) -> float:
    bad = isinstance(value, bool) or not isinstance(value, numbers.Real)
    if not bad:
        bad = not (0.0 <= float(value) < float("inf"))
        if maximum is not None:
            bad = bad or float(value) > maximum
    if bad:
        bound = f"in [0, {maximum}]" if maximum is not None else ">= 0 and finite"
        raise ValueError(f"Expected `{name}` to be a float {bound}. Received: {name}={value!r}")
    return float(value)


def check_seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"Expected `seed` to be None or an integer. Received: seed={seed!r}")
    return None if seed is None else int(seed)


def initializer(seed: int | None, offset: int) -> Any:
    """A Glorot-uniform initializer seeded with ``seed + offset`` (unseeded for None)."""
    import keras

    return keras.initializers.GlorotUniform(seed=None if seed is None else seed + offset)
