"""Every dataset by name: :func:`load`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras_sqnn.datasets._dataset import Dataset
from keras_sqnn.datasets.adult import fetch_adult
from keras_sqnn.datasets.banks import fetch_banks
from keras_sqnn.datasets.biased_mnist import fetch_biased_mnist
from keras_sqnn.datasets.compas import fetch_compas

LOADERS: dict[str, Callable[..., Dataset]] = {
    "adult": fetch_adult,
    "banks": fetch_banks,
    "compas": fetch_compas,
    "biased_mnist": fetch_biased_mnist,
}
"""The loader of each dataset name."""
TABULAR = ("adult", "banks", "compas")


def load(name: str, **kwargs: Any) -> Dataset:
    """The dataset called ``name``, from its ``fetch_<name>`` loader with ``kwargs``.

    Example:
        >>> load("compas").name
        'compas'
        >>> load("mnist")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected `name` in ('adult', 'banks', 'compas', 'biased_mnist'). ...
    """
    if name not in LOADERS:
        raise ValueError(f"Expected `name` in {tuple(LOADERS)}. Received: name={name!r}")
    return LOADERS[name](**kwargs)


__all__ = ["LOADERS", "TABULAR", "load"]
