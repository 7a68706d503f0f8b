"""Models saved before the lab moved to ``keras_sqnn.lab`` still load, and predict the same.

The files in tests/data/saved_before_lab_move were written by make.py there, with the
package as it was before the move: the saved configs name the old modules
(``keras_sqnn.baselines.vfae``), and only the registered names (``keras_sqnn>...``) find
the classes.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

import keras_sqnn.lab.baselines  # noqa: F401 - registers the baselines' classes
from keras_sqnn.lab.baselines import AdversarialClassifier, VariationalFairAutoencoder
from keras_sqnn.models import SensitiveSequential

SAVED = Path(__file__).parent / "data" / "saved_before_lab_move"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sqnn", SensitiveSequential),
        ("adversarial", AdversarialClassifier),
        ("vfae", VariationalFairAutoencoder),
    ],
)
def test_a_model_saved_before_the_move_loads_and_predicts_the_same(name, cls):
    expected = np.load(SAVED / "expected.npz")
    model = keras.models.load_model(SAVED / f"{name}.keras", safe_mode=True)
    assert type(model) is cls
    inputs = {"features": expected["features"], "sensitive": expected["sensitive"]}
    # Deterministic inference (theta thresholded, expectations): the same numbers on any
    # machine up to float32 rounding.
    np.testing.assert_allclose(model.predict(inputs, verbose=0), expected[name], atol=1e-5)
