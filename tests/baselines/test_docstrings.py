"""The examples in the baselines' and the harness' docstrings run and print what they show."""

from __future__ import annotations

import doctest

import pytest

from keras_sqnn.baselines import (
    adversarial,
    fairlearn_baselines,
    gradient_reversal,
    mmd,
    vanilla,
    vfae,
)
from keras_sqnn.experiments import harness, methods

MODULES = [
    gradient_reversal,
    mmd,
    vanilla,
    adversarial,
    vfae,
    fairlearn_baselines,
    methods,
    harness,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
