"""Train a SensitiveSequential with S, export it, and serve it with tf.saved_model.load.

The served model takes the features only and needs neither keras_sqnn nor S.

    .venv/bin/python examples/export_and_serve.py [--epochs 2] [--path /tmp/sqnn_serving]
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--path", default="/tmp/sqnn_serving")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, 2000).astype("int32")
    x = (rng.normal(size=(2000, 8)) + s[:, None]).astype("float32")
    y = (x[:, 2] > 0.5).astype("float32")
    model = SensitiveSequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            StochasticBinaryDense(8, mi_estimator="bernoulli", gamma=0.2, seed=0),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=args.epochs, verbose=2)
    model.export(args.path)

    served = tf.saved_model.load(args.path)
    scores = served.serve(tf.constant(x[:5])).numpy()
    np.testing.assert_allclose(scores, model.predict(x[:5], verbose=0), rtol=1e-5, atol=1e-6)
    print("served scores:", scores.ravel())


if __name__ == "__main__":
    main()
