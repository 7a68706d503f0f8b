"""SQNN classifiers as in the paper: full-precision hidden layers around one stochastic layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np

from keras_sqnn.layers import StochasticBinaryDense, stochastic_layers
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
        condition_on: None (default) regularizes ``I(T; S)``, independence of the
            representation from S (demographic parity); ``"labels"`` regularizes
            ``I(T; S | Y)``, separation (equalized odds): the model passes its binary
            training targets to the stochastic layer as Y.
        inference: the regularised layer's output at prediction (its ``inference``):
            ``"expectation"`` (default) scores from theta, deterministic but not measured
            by the MI; ``"sample"`` scores from one sampled code, which carries no more
            about S than the code does (README, "What the MI covers").
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
    condition_on: str | None = None
    inference: str = "expectation"

    def replace(self, **changes: Any) -> SQNNConfig:
        return SQNNConfig(**{**asdict(self), **changes})


def build_sqnn_classifier(
    input_dim: int,
    config: SQNNConfig,
    *,
    num_groups: int | tuple[int, ...] = 2,
    seed: int | None = 0,
) -> SensitiveSequential:
    """A compiled SQNN binary classifier for ``{"features", "sensitive"}`` inputs.

    Args:
        input_dim: number of features.
        config: the hyper-parameters.
        num_groups: the number of groups of S, or one count per column of S for several
            attributes (``num_groups=(g_1, ..., g_k)``: S of shape ``(n, k)``, regularized
            against the intersection; ``Dataset.group_counts`` gives it).
        seed: seed of the initializers and of the stochastic layers' samples.

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
                    condition_on=config.condition_on,
                    num_classes=2,
                    inference=config.inference,
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
    regularised = [
        layer
        for layer in stochastic_layers(model, recursive=False)
        if layer.mi_estimator is not None
    ]
    if not regularised:
        raise ValueError("The model has no stochastic binary layer with an MI estimator.")
    representation = regularised[0]
    outputs = []
    for start in range(0, len(x), batch_size):
        h = keras.ops.convert_to_tensor(x[start : start + batch_size])
        for layer in model.stack:
            if layer is representation:
                outputs.append(keras.ops.convert_to_numpy(layer.sample(layer.probabilities(h))))
                break
            h = layer(h, training=False)
    return np.concatenate(outputs)
