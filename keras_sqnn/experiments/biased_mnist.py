"""The paper's Biased-MNIST experiment (Table 1): accuracy on colour-unbiased test images.

Training images have a background in their class colour with probability ``rho``; the test
images (the ReBias "unbiased" split) have random background colours, so a network that
learnt the colour shortcut fails on them. The SQNN puts a stochastic binary convolution
first and penalises the information its feature maps carry about the background colour
S (10 groups); Vanilla is the same network with a deterministic sigmoid convolution.

Architecture (AlexNet-like, small enough for a CPU): [stochastic binary | sigmoid]
Conv2D(16, 3, stride 2) -> Conv2D(32, 3, ReLU) -> MaxPool -> Conv2D(64, 3, ReLU) ->
GlobalAveragePooling -> Dense(10, softmax). Adam, sparse categorical cross-entropy weighted
by ``1 - gamma`` (:class:`keras_sqnn.losses.TradeoffLoss`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_sqnn.layers import StochasticBinaryConv2D
from keras_sqnn.losses import TradeoffLoss

METHODS = ("vanilla", "binary_bernoulli", "binary_mi")


@dataclass(frozen=True)
class MnistProtocol:
    """Training budget of the Biased-MNIST experiment.

    ``small`` (this CPU machine): 30,000 training images, 5 epochs, batch 128.
    ``paper``: all 60,000 images, 80 epochs, as in Bahng et al. and the paper (a GPU).
    """

    train_images: int | None
    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3

    @classmethod
    def named(cls, budget: str) -> MnistProtocol:
        if budget == "small":
            return cls(train_images=30_000, epochs=5)
        if budget == "paper":
            return cls(train_images=None, epochs=80)
        raise ValueError(f"Expected budget 'small' or 'paper'. Received: budget={budget!r}")


def build_mnist_classifier(method: str, *, gamma: float = 0.5, seed: int = 0) -> keras.Model:
    """The compiled CNN for ``method`` in :data:`METHODS`; inputs ``{"features", "sensitive"}``."""
    if method not in METHODS:
        raise ValueError(f"Expected `method` in {METHODS}. Received: method={method!r}")
    keras.utils.set_random_seed(seed)
    images = keras.Input((28, 28, 3), name="features")
    colour = keras.Input((), dtype="int32", name="sensitive", optional=True)
    if method == "vanilla":
        h = keras.layers.Conv2D(16, 3, strides=2, activation="sigmoid", name="first")(images)
        gamma = 0.0
    else:
        estimator = "bernoulli" if method == "binary_bernoulli" else "joint"
        h = StochasticBinaryConv2D(
            16,
            3,
            strides=2,
            mi_estimator=estimator,
            gamma=gamma,
            num_groups=10,
            seed=seed,
            name="first",
        )(images, sensitive=colour)
    h = keras.layers.Conv2D(32, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(64, 3, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model({"features": images, "sensitive": colour}, out, name=method)
    model.compile(
        keras.optimizers.Adam(1e-3),
        TradeoffLoss("sparse_categorical_crossentropy", gamma=gamma),
        metrics=["accuracy"],
    )
    return model


def predict_digits(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Predicted digits from the images alone (the colour input is optional at inference)."""
    predictions = [
        keras.ops.convert_to_numpy(
            model({"features": images[i : i + batch_size], "sensitive": None}, training=False)
        )
        for i in range(0, len(images), batch_size)
    ]
    return np.argmax(np.concatenate(predictions), axis=1)


def _tf_dataset(x: np.ndarray, y: np.ndarray, s: np.ndarray, batch: int, seed: int) -> Any:
    data = tf.data.Dataset.from_tensor_slices((x, s, y)).shuffle(len(y), seed=seed)

    def to_inputs(image: Any, colour: Any, label: Any) -> Any:
        return {"features": tf.cast(image, tf.float32) / 255.0, "sensitive": colour}, label

    return data.batch(batch).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def run_biased_mnist(
    rho: float,
    *,
    methods: tuple[str, ...] = METHODS,
    budget: str = "small",
    gamma: float = 0.5,
    seed: int = 0,
    verbose: int = 0,
) -> list[dict[str, Any]]:
    """Train each method on Biased-MNIST(rho); return unbiased and biased test accuracies."""
    from keras_sqnn.datasets import fetch_biased_mnist

    protocol = MnistProtocol.named(budget)
    train = fetch_biased_mnist(split="train", rho=rho, seed=seed, dtype="uint8")
    rows = np.arange(len(train.y))
    if protocol.train_images is not None:
        rows = np.random.default_rng(seed).permutation(rows)[: protocol.train_images]
    x, y, s = train.X[rows], train.y[rows], train.s[rows]
    tests = {
        split: fetch_biased_mnist(split=split, seed=seed, dtype="float32")
        for split in ("test", "test_biased")
    }
    results = []
    for method in methods:
        model = build_mnist_classifier(method, gamma=gamma, seed=seed)
        started = time.perf_counter()
        model.fit(
            _tf_dataset(x, y, s, protocol.batch_size, seed),
            epochs=protocol.epochs,
            verbose=verbose,
        )
        seconds = time.perf_counter() - started
        row = {
            "method": method,
            "rho": rho,
            "gamma": 0.0 if method == "vanilla" else gamma,
            "train_images": len(y),
            "epochs": protocol.epochs,
            "train_seconds": seconds,
        }
        for split, test in tests.items():
            accuracy = float(np.mean(predict_digits(model, test.X) == test.y))
            row["unbiased_accuracy" if split == "test" else "biased_accuracy"] = accuracy
        results.append(row)
    return results
