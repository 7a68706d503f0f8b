"""The Biased-MNIST experiment's data: the validation split, the batches, the predictions.

The validation split is held out from the MNIST *training* images (the test images are
never read to choose anything); :mod:`keras_sqnn.lab.experiments.biased_mnist` trains on it.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from keras_sqnn.datasets import Dataset
from keras_sqnn.datasets.biased_mnist import (
    COLOUR_NAMES,
    assign_colours,
    check_rho,
    colourize,
    fetch_biased_mnist,
    load_mnist,
)
from keras_sqnn.lab.experiments.biased_mnist_network import MnistProtocol

# Random streams of the validation split; the dataset's own splits use streams 0, 1 and 2.
_SPLIT_STREAM, _TRAIN_STREAM, _VALIDATION_STREAM = 3, 4, 5
VALIDATION_RHO = 0.1


def validation_split(
    rho: float,
    *,
    seed: int = 0,
    n_validation: int = 10_000,
    data_home: str | os.PathLike[str] | None = None,
) -> tuple[Dataset, Dataset]:
    """Hold out ``n_validation`` MNIST *training* images as an unbiased validation split.

    The MNIST test images are never read. The held-out images are recoloured at
    ``rho = 0.1`` (colours independent of the digit, like the unbiased test split); the
    others at ``rho``. Both colourings are exact per class (:func:`assign_colours`).

    Args:
        rho: the training split's colour correlation.
        seed: seeds which images are held out and both colourings.
        n_validation: the number of held-out images (in 1 .. 59,999).
        data_home: MNIST cache dir (see :func:`load_mnist`).

    Returns:
        ``(train, validation)`` Datasets of ``uint8`` images; ``description`` names the
        MNIST training rows they came from.

    Example:
    >>> train, validation = validation_split(0.99, n_validation=10_000)
    >>> len(train), len(validation)
    (50000, 10000)
    """
    rho = check_rho(rho)
    parts, _ = load_mnist(data_home=data_home)
    images, labels = parts["train"]
    kept, held_out = validation_rows(len(labels), n_validation, seed=seed)

    def coloured(split_rows: np.ndarray, split_rho: float, stream: int, what: str) -> Dataset:
        colours = assign_colours(
            labels[split_rows], split_rho, np.random.default_rng([seed, stream])
        )
        return Dataset(
            name="biased_mnist",
            X=colourize(images[split_rows], colours),
            y=labels[split_rows],
            s=colours,
            feature_names=[],
            sensitive_name="background colour",
            group_names=list(COLOUR_NAMES),
            target_names=[str(d) for d in range(10)],
            is_test=np.zeros(len(split_rows), dtype=bool),
            description=f"Biased-MNIST {what}: {len(split_rows)} MNIST training images, "
            f"rho={split_rho}, seed={seed}",
        )

    train = coloured(kept, rho, _TRAIN_STREAM, "train")
    return train, coloured(held_out, VALIDATION_RHO, _VALIDATION_STREAM, "validation")


def validation_rows(n: int, n_validation: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices ``(kept, held_out)`` of a seeded random hold-out of ``n`` rows.

    Example:
    >>> kept, held_out = validation_rows(10, 3, seed=0)
    >>> len(kept), len(held_out), sorted([*kept, *held_out]) == list(range(10))
    (7, 3, True)
    """
    if not 0 < n_validation < n:
        raise ValueError(
            f"Expected 0 < n_validation < {n}. Received: n_validation={n_validation!r}"
        )
    rows = np.random.default_rng([seed, _SPLIT_STREAM]).permutation(n)
    return np.sort(rows[n_validation:]), np.sort(rows[:n_validation])


def training_data(rho: float, protocol: MnistProtocol, seed: int) -> tuple[Dataset, Dataset | None]:
    """The training images of ``protocol`` at ``rho`` and its validation split (or None)."""
    if protocol.validation_images:
        return validation_split(rho, seed=seed, n_validation=protocol.validation_images)
    return fetch_biased_mnist(split="train", rho=rho, seed=seed, dtype="uint8"), None


def tf_dataset(
    data: Dataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    labels: bool = False,
    weights: np.ndarray | None = None,
) -> Any:
    """Batches ``({"features": float32 pixels in 0..255, "sensitive": colour}, digit)``.

    With ``labels=True`` the inputs also hold ``"labels"``: the digit, for a model whose
    regularizer is conditioned on it. With ``weights``, each batch also holds the images'
    sample weights.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(np.asarray(data.X, dtype=np.uint8))
    targets = tf.convert_to_tensor(np.asarray(data.y, dtype=np.int32))
    colours = tf.convert_to_tensor(np.asarray(data.s, dtype=np.int32))
    sample_weights = None if weights is None else tf.convert_to_tensor(weights, tf.float32)
    order = tf.data.Dataset.range(len(data.y))
    if shuffle:
        order = order.shuffle(len(data.y), seed=seed, reshuffle_each_iteration=True)

    def gather(index: Any) -> Any:
        x = tf.cast(tf.gather(images, index), tf.float32)
        digits = tf.gather(targets, index)
        inputs = {"features": x, "sensitive": tf.gather(colours, index)}
        if labels:
            inputs["labels"] = digits
        if sample_weights is not None:
            return inputs, digits, tf.gather(sample_weights, index)
        return inputs, digits

    return order.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


def predict_digits(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Predicted digits from the images alone (colour and labels are optional at inference)."""
    network = getattr(model, "network", model)  # a GroupDROModel wraps the classifier
    optional = {name: None for name in network.input if name != "features"}
    predictions = [
        keras.ops.convert_to_numpy(
            model(
                {"features": np.asarray(images[i : i + batch_size], np.float32), **optional},
                training=False,
            )
        )
        for i in range(0, len(images), batch_size)
    ]
    return np.argmax(np.concatenate(predictions), axis=1)


__all__ = [
    "VALIDATION_RHO",
    "predict_digits",
    "tf_dataset",
    "training_data",
    "validation_rows",
    "validation_split",
]
