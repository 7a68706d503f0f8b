"""Writes the `.keras` files that tests/test_saved_before_lab_move.py loads.

They were saved by keras_sqnn 0.x before the experiments, baselines and CLI moved to
``keras_sqnn.lab`` (the classes' registered names did not change), with the expected
predictions on the inputs stored in ``expected.npz``. Run once, from the repository root, with
the version that wrote them; do not regenerate them after a move, or the test proves
nothing.
"""

from pathlib import Path

import numpy as np

from keras_sqnn.baselines import build_adversarial_classifier, build_vfae
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier

HERE = Path(__file__).parent


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    s = rng.integers(0, 2, size=64)
    y = (x[:, 0] + 0.5 * s > 0).astype("float32")
    inputs = {"features": x, "sensitive": s}
    models = {
        "sqnn": build_sqnn_classifier(
            6, SQNNConfig(hidden_size=8, n_hidden=2, inference="threshold"), seed=0
        ),
        "adversarial": build_adversarial_classifier(6, gamma=0.5, seed=0),
        "vfae": build_vfae(6, gamma=1.0, latent_dim=4, hidden_units=(8,), seed=0),
    }
    expected = {}
    for name, model in models.items():
        model.fit(inputs, y, epochs=2, batch_size=32, verbose=0)
        model.save(HERE / f"{name}.keras")
        expected[name] = model.predict(inputs, verbose=0)
    np.savez(HERE / "expected.npz", features=x, sensitive=s, **expected)


if __name__ == "__main__":
    main()
