"""SQNN classifiers as in the paper: full-precision hidden layers around one stochastic layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np

from keras_sqnn.layers import StochasticBinaryDense, StochasticBinaryMixin
from keras_sqnn.losses import TradeoffLoss
from keras_sqnn.models import SensitiveSequential


@dataclass(frozen=True)
class SQNNConfig:
    """Hyper-parameters of an SQNN binary classifier (the paper's Table 2 space).

    Attributes:
        gamma: trade-off, the objective is ``gamma * MI + (1 - gamma) * BCE``.
        estimator: ``"bernoulli"`` (BinaryBernoulli) or ``"joint"`` (BinaryMI).
        n_hidden: number of hidden layers, the stochastic one included.
        hidden_size: units per hidden layer.
        hybrid: full-precision ReLU layers around the stochastic layer (True), or every
            hidden layer stochastic binary (False).
        stochastic_position: index of the regularised stochastic layer among the hidden
            layers; -1 (default) is the last, the paper's penultimate-layer choice.
        batch_size, learning_rate, epochs: training settings (Adam).
    """

    gamma: float = 0.04
    estimator: str = "bernoulli"
    n_hidden: int = 3
    hidden_size: int = 50
    hybrid: bool = True
    stochastic_position: int = -1
    batch_size: int = 225
    learning_rate: float = 1e-4
    epochs: int = 100

    def replace(self, **changes: Any) -> SQNNConfig:
        return SQNNConfig(**{**asdict(self), **changes})


# The paper's Table 2 (best hyper-parameters; learning rate 1e-4, Adam, 100 epochs).
PAPER_HYPERPARAMETERS: dict[tuple[str, str], SQNNConfig] = {
    ("compas", "joint"): SQNNConfig(0.16, "joint", 2, 10, batch_size=242),
    ("compas", "bernoulli"): SQNNConfig(0.23, "bernoulli", 3, 20, batch_size=175),
    ("banks", "joint"): SQNNConfig(0.03, "joint", 5, 40, batch_size=153),
    ("banks", "bernoulli"): SQNNConfig(0.60, "bernoulli", 1, 30, batch_size=240),
    ("adult", "joint"): SQNNConfig(0.01, "joint", 4, 50, batch_size=228),
    ("adult", "bernoulli"): SQNNConfig(0.04, "bernoulli", 3, 50, batch_size=225),
}


def build_sqnn_classifier(
    input_dim: int, config: SQNNConfig, *, num_groups: int = 2, seed: int | None = 0
) -> SensitiveSequential:
    """A compiled SQNN binary classifier for ``{"features", "sensitive"}`` inputs.

    Example:
        >>> model = build_sqnn_classifier(10, SQNNConfig(n_hidden=2, hidden_size=8))
        >>> [type(layer).__name__ for layer in model.stack]
        ['Dense', 'StochasticBinaryDense', 'Dense']
    """
    if not 1 <= config.n_hidden:
        raise ValueError(f"Expected `n_hidden` >= 1. Received: n_hidden={config.n_hidden}")
    position = config.stochastic_position % config.n_hidden
    initializer_seed = None if seed is None else int(seed)
    model = SensitiveSequential(input_shape=(input_dim,), name="sqnn")
    for index in range(config.n_hidden):
        kernel_initializer = keras.initializers.GlorotUniform(
            seed=None if initializer_seed is None else initializer_seed + index
        )
        if index == position:
            model.add(
                StochasticBinaryDense(
                    config.hidden_size,
                    mi_estimator=config.estimator,
                    gamma=config.gamma,
                    num_groups=num_groups,
                    kernel_initializer=kernel_initializer,
                    seed=None if seed is None else seed + 1000,
                    name="representation",
                )
            )
        elif config.hybrid:
            model.add(
                keras.layers.Dense(
                    config.hidden_size, activation="relu", kernel_initializer=kernel_initializer
                )
            )
        else:
            model.add(
                StochasticBinaryDense(
                    config.hidden_size,
                    kernel_initializer=kernel_initializer,
                    seed=None if seed is None else seed + 2000 + index,
                )
            )
    model.add(
        keras.layers.Dense(
            1,
            activation="sigmoid",
            kernel_initializer=keras.initializers.GlorotUniform(seed=initializer_seed),
        )
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=TradeoffLoss("binary_crossentropy", gamma=config.gamma),
        metrics=[keras.metrics.AUC(name="auc")],
    )
    return model


def representation_codes(
    model: SensitiveSequential, x: Any, *, batch_size: int = 4096
) -> np.ndarray:
    """Binary codes T sampled from the model's first regularised stochastic layer, for ``x``."""
    outputs = []
    for start in range(0, len(x), batch_size):
        h = keras.ops.convert_to_tensor(x[start : start + batch_size])
        for layer in model.stack:
            if isinstance(layer, StochasticBinaryMixin) and layer.mi_estimator is not None:
                outputs.append(keras.ops.convert_to_numpy(layer.sample(layer.probabilities(h))))
                break
            h = layer(h, training=False)
        else:
            raise ValueError("The model has no stochastic binary layer with an MI estimator.")
    return np.concatenate(outputs)
