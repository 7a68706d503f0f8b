"""The Biased-MNIST network and its training protocol (budgets ``cpu`` and ``paper``).

ReBias' ``SimpleConvNet`` (Bahng et al. 2020) and the SQNN variants that put
:class:`keras_sqnn.layers.StochasticBinaryConv2D` in place of its first, last or all blocks;
see :mod:`keras_sqnn.lab.experiments.biased_mnist` for the experiment that trains them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import keras

from keras_sqnn.datasets.biased_mnist import (
    COLOUR_NAMES,
)
from keras_sqnn.lab.experiments.bias_supervised import GroupDROModel
from keras_sqnn.layers import StochasticBinaryConv2D
from keras_sqnn.losses import TradeoffLoss

PAPER_METHODS = ("vanilla", "binary_bernoulli", "binary_mi")
"""The methods of the paper's Table 1."""
BIAS_LABEL_METHODS = ("binary_bernoulli_conditional", "reweighting", "group_dro")
"""The methods that read the colour labels in training (besides the paper's SQNNs, which
read them only in their regularizer)."""
METHODS = (*PAPER_METHODS, *BIAS_LABEL_METHODS)
SQNN_METHODS = ("binary_bernoulli", "binary_mi", "binary_bernoulli_conditional")
LAYERS = ("first", "last", "all")
SCHEDULES = ("step", "cosine", "onecycle")


@dataclass(frozen=True)
class MnistProtocol:
    """Network and training budget of the Biased-MNIST experiment.

    Attributes:
        name: the budget's name, written to the results.
        filters: channels of the convolution blocks.
        kernel_size: convolution kernel size.
        resolution: 28 (the images) or 14 (2 x 2 average pooling inside the model).
        pool: 2 x 2 max pooling after every block but the last.
        epochs: training epochs.
        batch_size: batch size.
        learning_rate: Adam's initial learning rate.
        schedule: ``"step"`` (x ``step_factor`` every ``step_epochs``), ``"cosine"``
            (to 0 at the end) or ``"onecycle"`` (linear warm-up from a tenth over the first
            ``warmup_fraction`` of the epochs, then cosine to 0).
        step_epochs: period of the step schedule.
        step_factor: factor of the step schedule.
        warmup_fraction: share of the epochs the one-cycle schedule warms up.
        weight_decay: PyTorch-style (coupled) weight decay: ``weight_decay / 2 * ||w||^2``
            on every weight (kernels, biases, BatchNormalization scales and offsets).
        validation_images: training images held out (recoloured at ``rho = 0.1``) for a
            per-epoch validation accuracy; 0 trains on all 60,000.
    """

    name: str
    filters: tuple[int, ...] = (16, 32, 64, 128)
    kernel_size: int = 7
    resolution: int = 28
    pool: bool = False
    epochs: int = 80
    batch_size: int = 256
    learning_rate: float = 1e-3
    schedule: str = "step"
    step_epochs: int = 20
    step_factor: float = 0.1
    warmup_fraction: float = 0.3
    weight_decay: float = 1e-4
    validation_images: int = 0

    def __post_init__(self) -> None:
        if self.resolution not in (14, 28):
            raise ValueError(f"Expected resolution 14 or 28. Received: {self.resolution!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Expected schedule in {SCHEDULES}. Received: {self.schedule!r}")
        if not self.filters or self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                "Expected filters, epochs >= 1 and batch_size >= 1. "
                f"Received: filters={self.filters}, epochs={self.epochs}, "
                f"batch_size={self.batch_size}"
            )

    @classmethod
    def named(cls, budget: str, **overrides: Any) -> MnistProtocol:
        """The ``"paper"`` or ``"cpu"`` protocol, with optional field overrides."""
        if budget == "paper":
            protocol = cls(name="paper")
        elif budget == "cpu":
            protocol = CPU_PROTOCOL
        else:
            raise ValueError(f"Expected budget 'cpu' or 'paper'. Received: budget={budget!r}")
        return replace(protocol, **overrides)

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate of (0-based) ``epoch``."""
        lr = self.learning_rate
        if self.schedule == "step":
            return lr * self.step_factor ** (epoch // self.step_epochs)
        if self.schedule == "cosine":
            return lr * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))
        warmup = max(1, round(self.warmup_fraction * self.epochs))
        if epoch < warmup:
            return lr * (0.1 + 0.9 * epoch / warmup)
        return lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup) / (self.epochs - warmup)))


# The CPU protocol, chosen on the validation split (docs/BIASED_MNIST.md): ReBias' widths
# with 3 x 3 kernels and max pooling, a one-cycle learning rate peaking at 6e-3, trained on
# 50,000 images (the other 10,000 training images are its validation split).
CPU_PROTOCOL = MnistProtocol(
    name="cpu",
    filters=(16, 32, 64, 128),
    kernel_size=3,
    resolution=28,
    pool=True,
    epochs=20,
    batch_size=128,
    learning_rate=6e-3,
    schedule="onecycle",
    validation_images=10_000,
)


def _conv_block(
    h: Any,
    filters: int,
    protocol: MnistProtocol,
    index: int,
    binary: dict[str, Any] | None,
    colour: Any,
    digits: Any,
) -> Any:
    regularizer = keras.regularizers.L2(protocol.weight_decay / 2)
    kernel_init = keras.initializers.VarianceScaling(
        2.0, mode="fan_out", distribution="untruncated_normal"
    )
    common = {
        "padding": "same",
        "kernel_initializer": kernel_init,
        "kernel_regularizer": regularizer,
        "bias_regularizer": regularizer,
        "name": f"conv{index}",
    }
    if binary is not None:
        layer = StochasticBinaryConv2D(filters, protocol.kernel_size, **common, **binary)
        if binary.get("condition_on") == "labels":
            return layer(h, sensitive=colour, labels=digits)
        return layer(h, sensitive=colour)
    h = keras.layers.Conv2D(filters, protocol.kernel_size, **common)(h)
    h = keras.layers.BatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        gamma_regularizer=regularizer,
        beta_regularizer=regularizer,
        name=f"bn{index}",
    )(h)
    return keras.layers.ReLU(name=f"relu{index}")(h)


def build_mnist_classifier(
    method: str,
    *,
    protocol: MnistProtocol | None = None,
    gamma: float = 0.01,
    layer: str = "first",
    seed: int = 0,
) -> keras.Model:
    """The compiled SimpleConvNet for ``method`` in :data:`METHODS`.

    Args:
        method: ``"vanilla"``, ``"binary_bernoulli"``, ``"binary_mi"`` (the joint MI) or
            ``"binary_bernoulli_conditional"`` (the per-unit MI conditioned on the digit,
            ``I(T; colour | digit)``: the model has a third input, ``"labels"``, the digit,
            fed in training only).
        protocol: network and optimiser; default ``MnistProtocol.named("cpu")``.
        gamma: the SQNN's trade-off; for ``"reweighting"`` the weights' cap, for
            ``"group_dro"`` its step size (ignored by vanilla).
        layer: the blocks made stochastic binary, ``"first"``, ``"last"`` or ``"all"``.
        seed: seeds the initial weights and the binary layers' noise.

    Returns:
        A model with inputs ``{"features": (28, 28, 3) pixels in 0..255, "sensitive":
        colour index (optional)}`` and softmax outputs, compiled with Adam (its learning
        rate is set per epoch by :func:`learning_rate_callback`).

    Example:
    >>> model = build_mnist_classifier("vanilla", protocol=MnistProtocol.named("paper"))
    >>> model.output_shape
    (None, 10)
    """
    if method not in METHODS:
        raise ValueError(f"Expected `method` in {METHODS}. Received: method={method!r}")
    if layer not in LAYERS:
        raise ValueError(f"Expected `layer` in {LAYERS}. Received: layer={layer!r}")
    protocol = protocol or MnistProtocol.named("cpu")
    keras.utils.set_random_seed(seed)
    images = keras.Input((28, 28, 3), name="features")
    colour = keras.Input((), dtype="int32", name="sensitive", optional=True)
    conditional = method == "binary_bernoulli_conditional"
    digits = keras.Input((), dtype="int32", name="labels", optional=True) if conditional else None
    h = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="normalise")(images)
    if protocol.resolution == 14:
        h = keras.layers.AveragePooling2D(2, name="downsample")(h)
    last = len(protocol.filters) - 1
    for index, filters in enumerate(protocol.filters):
        is_binary = method in SQNN_METHODS and (
            layer == "all"
            or (layer == "first" and index == 0)
            or (layer == "last" and index == last)
        )
        binary = None
        if is_binary:
            binary = {
                "mi_estimator": "joint" if method == "binary_mi" else "bernoulli",
                "gamma": gamma,
                "num_groups": len(COLOUR_NAMES),
                # Test images get binary codes as in training: the next block's
                # BatchNormalization learnt its statistics on samples, not on theta (with
                # "expectation" the network was at chance even on biased test images).
                "inference": "sample",
                "seed": seed + index,
            }
        if binary is not None and conditional:
            binary.update(condition_on="labels", num_classes=10)
        h = _conv_block(h, filters, protocol, index, binary, colour, digits)
        if protocol.pool and index < last:
            h = keras.layers.MaxPooling2D(2, name=f"pool{index}")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    fan_in_bound = 1.0 / math.sqrt(protocol.filters[-1])
    regularizer = keras.regularizers.L2(protocol.weight_decay / 2)
    out = keras.layers.Dense(
        10,
        activation="softmax",
        # PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both.
        kernel_initializer=keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
        bias_initializer=keras.initializers.RandomUniform(-fan_in_bound, fan_in_bound),
        kernel_regularizer=regularizer,
        bias_regularizer=regularizer,
        name="fc",
    )(h)
    inputs = {"features": images, "sensitive": colour}
    if conditional:
        inputs["labels"] = digits
    model = keras.Model(inputs, out, name=method)
    if method == "group_dro":
        dro = GroupDROModel(model, num_groups=10 * len(COLOUR_NAMES), step_size=gamma)
        dro.compile(keras.optimizers.Adam(protocol.learning_rate))
        return dro
    model.compile(
        keras.optimizers.Adam(protocol.learning_rate),
        TradeoffLoss(
            "sparse_categorical_crossentropy", gamma=gamma if method in SQNN_METHODS else 0.0
        ),
        metrics=["accuracy"],
    )
    return model


def learning_rate_callback(protocol: MnistProtocol) -> keras.callbacks.Callback:
    """Sets Adam's learning rate at each epoch's start from ``protocol.learning_rate_at``."""
    return keras.callbacks.LearningRateScheduler(lambda epoch, _: protocol.learning_rate_at(epoch))
