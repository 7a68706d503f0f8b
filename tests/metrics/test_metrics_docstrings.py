"""The examples in the metrics' docstrings run and print what they show."""

from __future__ import annotations

import doctest

import pytest

from keras_sqnn.metrics import evaluate, fairness, probes


@pytest.mark.parametrize("module", [fairness, probes, evaluate], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
