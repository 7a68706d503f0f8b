"""Every docstring example of the package runs and prints what it shows (one runner)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import keras_sqnn

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(keras_sqnn.__path__, prefix="keras_sqnn.")
    if info.name != "keras_sqnn.__main__"  # runs the CLI on import
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch, tmp_path):
    # An empty cache dir: the dataset examples read the installed data packages.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False
    )
    assert result.failed == 0


def test_the_runner_sees_the_examples():
    # The public layers, estimators, metrics and datasets all carry examples.
    for name in (
        "keras_sqnn.layers.stochastic_binary_dense",
        "keras_sqnn.estimators",
        "keras_sqnn.metrics.fairness",
        "keras_sqnn.datasets.biased_mnist",
        "keras_sqnn.information.joint",
    ):
        assert name in MODULES
        assert doctest.DocTestFinder().find(importlib.import_module(name)), name
