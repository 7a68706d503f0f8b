"""The examples in the datasets' docstrings run and print what they show."""

from __future__ import annotations

import doctest

import pytest

import keras_sqnn.datasets as datasets
from keras_sqnn.datasets import (
    adult,
    banks,
    biased_mnist,
    compas,
    folds,
    numpy_pickle,
    preprocessing,
    sources,
)

MODULES = [
    datasets,
    sources,
    numpy_pickle,
    adult,
    compas,
    banks,
    biased_mnist,
    folds,
    preprocessing,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module, monkeypatch, tmp_path):
    # An empty cache dir: the examples read the installed data packages.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
