"""Quick start: an SQNN on synthetic data where a feature leaks the sensitive attribute.

.venv/bin/python examples/quickstart.py [--epochs 5]
"""

import argparse

import keras
import numpy as np

from keras_sqnn import information
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.losses import TradeoffLoss
from keras_sqnn.models import SensitiveSequential


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--gamma", type=float, default=0.5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, 4000).astype("int32")
    x = rng.normal(size=(4000, 10)).astype("float32")
    x[:, 0] += 2.0 * s  # a proxy of S
    y = ((x[:, 1] + 0.5 * x[:, 0]) > 0.5).astype("float32")

    model = SensitiveSequential()
    model.add(keras.Input((10,)))
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(StochasticBinaryDense(8, mi_estimator="joint", gamma=args.gamma, seed=1, name="t"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile("adam", TradeoffLoss("binary_crossentropy", gamma=args.gamma))
    model.fit({"features": x, "sensitive": s}, y, epochs=args.epochs, batch_size=128, verbose=2)
    layer = model.stack[1]
    theta = keras.ops.convert_to_numpy(layer.probabilities(model.stack[0](x)))
    print("I(T;S) bits:", float(information.exact_joint_mutual_information(theta, s, 2)))


if __name__ == "__main__":
    main()
