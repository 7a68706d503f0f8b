"""The vanilla network: the SQNN classifier without its stochastic layer or fairness term.

The vanilla CNN of the Biased-MNIST experiment is
``keras_sqnn.lab.experiments.biased_mnist.build_mnist_classifier("vanilla")``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_sqnn.classifiers import SQNNConfig
from keras_sqnn.lab.baselines._inputs import check_seed, initializer
from keras_sqnn.models import SensitiveSequential
from keras_sqnn.validation import check_positive_int

REPRESENTATION = "representation"
"""Name of the layer in place of the SQNN's regularised stochastic layer (probed for ADRG)."""


def build_vanilla_classifier(
    input_dim: int,
    config: SQNNConfig | None = None,
    *,
    representation_activation: str = "sigmoid",
    seed: int | None = 0,
) -> SensitiveSequential:
    """A compiled full-precision MLP with the architecture of an SQNN classifier.

    Same layers, sizes, initializers and optimizer as
    ``keras_sqnn.classifiers.build_sqnn_classifier(input_dim, config)``, but each stochastic
    binary layer is a ``Dense`` layer with ``representation_activation`` (the regularised
    one is named ``"representation"``) and the loss is plain binary cross-entropy: no
    sampling and no fairness term; ``config.gamma`` and ``config.estimator`` are ignored.
    The default sigmoid makes the network the SQNN at inference (a stochastic layer in
    ``"expectation"`` mode outputs ``sigmoid(z)``) without the sampling noise.

    The model takes the features, or ``{"features": x, "sensitive": s}`` (S is ignored), so
    it trains on the same data as the SQNN.

    Args:
        input_dim: number of input features.
        config: the SQNN hyper-parameters to mirror (default ``SQNNConfig()``).
        representation_activation: activation of the layers that replace stochastic ones.
        seed: seed of the initializers (None: unseeded).

    Returns:
        A compiled ``SensitiveSequential`` predicting P(y=1).

    Example:
        >>> model = build_vanilla_classifier(10, SQNNConfig(n_hidden=2, hidden_size=8))
        >>> [layer.name for layer in model.stack][-2:]
        ['representation', 'dense_out']
    """
    config = config or SQNNConfig()
    input_dim = check_positive_int(input_dim, "input_dim")
    n_hidden = check_positive_int(config.n_hidden, "n_hidden")
    hidden_size = check_positive_int(config.hidden_size, "hidden_size")
    seed = check_seed(seed)
    keras.activations.get(representation_activation)  # Fails early on an unknown name.
    position = config.stochastic_position % n_hidden
    model = SensitiveSequential(input_shape=(input_dim,), name="vanilla")
    for index in range(n_hidden):
        stochastic_in_sqnn = index == position or not config.hybrid
        model.add(
            keras.layers.Dense(
                hidden_size,
                activation=representation_activation if stochastic_in_sqnn else "relu",
                kernel_initializer=initializer(seed, index),
                name=REPRESENTATION if index == position else f"dense_{index}",
            )
        )
    model.add(
        keras.layers.Dense(
            1, activation="sigmoid", kernel_initializer=initializer(seed, 0), name="dense_out"
        )
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc")],
    )
    return model


def layer_outputs(
    model: SensitiveSequential, x: Any, layer_name: str = REPRESENTATION, batch_size: int = 4096
) -> np.ndarray:
    """The outputs of a ``SensitiveSequential``'s layer ``layer_name`` at inference.

    Args:
        model: the model.
        x: features, shape ``(n, ...)``.
        layer_name: the layer (default: the representation layer of the vanilla builders).
        batch_size: rows per forward pass.

    Returns:
        A NumPy array, one row per example.

    Example:
        >>> model = build_vanilla_classifier(4, SQNNConfig(n_hidden=2, hidden_size=3))
        >>> layer_outputs(model, np.zeros((5, 4), "float32")).shape
        (5, 3)
    """
    names = [layer.name for layer in model.stack]
    if layer_name not in names:
        raise ValueError(
            f"Expected `layer_name` to name a layer of the model {names}. "
            f"Received: layer_name={layer_name!r}"
        )
    outputs = []
    for start in range(0, len(x), batch_size):
        h = keras.ops.convert_to_tensor(x[start : start + batch_size])
        for layer in model.stack:
            h = layer(h, training=False)
            if layer.name == layer_name:
                break
        outputs.append(keras.ops.convert_to_numpy(h))
    return np.concatenate(outputs)
