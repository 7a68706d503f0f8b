"""An adversarial fair classifier (AdvCls): encoder, label head, and an S adversary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_sqnn.api_export import keras_sqnn_export
from keras_sqnn.lab.baselines._base import FeatureClassifierModel
from keras_sqnn.lab.baselines._inputs import (
    check_non_negative,
    check_seed,
    check_units,
    initializer,
    split_inputs,
)
from keras_sqnn.lab.baselines.gradient_reversal import GradientReversal
from keras_sqnn.losses import TradeoffLoss
from keras_sqnn.validation import check_positive_int


@keras_sqnn_export
class AdversarialClassifier(FeatureClassifierModel):
    """Binary classifier whose representation is trained to hide S from an adversary.

    An encoder maps the features to a representation ``h``; a sigmoid head predicts
    P(y=1 | h); an adversary MLP predicts S from ``h`` through a :class:`GradientReversal`
    layer of scale ``gamma``. The encoder and the head minimise
    ``(1 - gamma) * L_Y - gamma * L_S`` (the ``(1 - gamma) * L_Y`` part comes from the
    compiled loss, e.g. ``TradeoffLoss("binary_crossentropy", gamma)``) while the adversary
    minimises its cross-entropy ``L_S``: the saddle point of Xie et al. (2017). The adversary
    learns at full weight whatever ``gamma`` (``gamma`` scales only the reversed gradient),
    so at ``gamma = 0`` it still measures how much S the representation leaks; this is why
    the logged ``loss`` is ``(1 - gamma) * L_Y + L_S``. ``L_S`` is logged as
    ``adversary_loss``.

    Two training schedules (``alternating``):

    - ``False`` (default): simultaneous gradient steps through the reversal layer (Ganin et
      al. 2016), one optimizer over all weights; ``fit`` is Keras' own ``train_step``.
    - ``True``: as in Xie et al. (2017), each batch first updates the adversary on the
      current (fixed) representation with its own Adam optimizer
      (``adversary_learning_rate``, saved with the model), then updates the encoder and
      head with the compiled optimizer against the updated, fixed adversary.

    Fit on ``{"features": x, "sensitive": s}`` (S may be left out only when ``gamma = 0``);
    at inference the model takes the features (or the dict) and S is never needed.

    Args:
        input_dim: number of input features.
        encoder_units: sizes of the encoder's ReLU layers; the last is the representation.
        adversary_units: sizes of the adversary's hidden ReLU layers.
        gamma: trade-off in ``[0, 1]``.
        num_groups: number of groups of S (ids ``0 .. num_groups - 1``).
        alternating: the training schedule, see above.
        adversary_learning_rate: learning rate of the adversary's Adam optimizer with
            ``alternating=True`` (unused otherwise).
        seed: seed of the initializers.
        name: model name.

    Call arguments:
        inputs: features of shape ``(batch, input_dim)``, or ``{"features", "sensitive"}``.
        training: Python bool.

    Call returns:
        P(y=1), shape ``(batch, 1)``.

    Example:
        >>> import numpy as np
        >>> model = build_adversarial_classifier(6, gamma=0.5, encoder_units=(8,))
        >>> x = np.random.rand(64, 6).astype("float32"); s = np.arange(64) % 2
        >>> history = model.fit({"features": x, "sensitive": s}, s, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['adversary_loss', 'auc', 'loss']

    References:
        - Xie, Dai, Du, Hovy and Neubig, "Controllable Invariance through Adversarial
          Feature Learning", NeurIPS 2017.
        - Ganin, Ustinova, Ajakan et al., "Domain-Adversarial Training of Neural
          Networks", JMLR 17, 2016.
    """

    def __init__(
        self,
        input_dim: int,
        encoder_units: Sequence[int] = (20, 20),
        adversary_units: Sequence[int] = (20,),
        gamma: float = 0.5,
        num_groups: int = 2,
        alternating: bool = False,
        adversary_learning_rate: float = 1e-3,
        seed: int | None = 0,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.encoder_units = check_units(encoder_units, "encoder_units")
        self.adversary_units = check_units(adversary_units, "adversary_units", allow_empty=True)
        self.gamma = check_non_negative(gamma, "gamma", maximum=1.0)
        self.num_groups = check_positive_int(num_groups, "num_groups", minimum=2)
        if not isinstance(alternating, bool):
            raise TypeError(
                f"Expected `alternating` to be a bool. Received: alternating={alternating!r}"
            )
        self.alternating = alternating
        self.adversary_learning_rate = check_non_negative(
            adversary_learning_rate, "adversary_learning_rate"
        )
        self.seed = check_seed(seed)
        self.encoder = keras.Sequential(
            [
                keras.layers.Dense(
                    units,
                    activation="relu",
                    kernel_initializer=initializer(self.seed, index),
                    name="representation" if index == len(self.encoder_units) - 1 else None,
                )
                for index, units in enumerate(self.encoder_units)
            ],
            name="encoder",
        )
        self.head = keras.layers.Dense(
            1, activation="sigmoid", kernel_initializer=initializer(self.seed, 100), name="head"
        )
        self.reversal = GradientReversal(self.gamma, name="gradient_reversal")
        self.adversary = keras.Sequential(
            [
                keras.layers.Dense(
                    units, activation="relu", kernel_initializer=initializer(self.seed, 200 + i)
                )
                for i, units in enumerate(self.adversary_units)
            ]
            + [
                keras.layers.Dense(
                    self.num_groups, kernel_initializer=initializer(self.seed, 300), name="logits"
                )
            ],
            name="adversary",
        )
        self.adversary_tracker = keras.metrics.Mean(name="adversary_loss")
        self.build((None, self.input_dim))
        self.adversary_optimizer: keras.optimizers.Optimizer | None = None
        if self.alternating:
            # Created here, not in `compile`, so that a reloaded model has it (with its state).
            self.adversary_optimizer = keras.optimizers.Adam(self.adversary_learning_rate)
            self.adversary_optimizer.build(self.adversary.trainable_variables)

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, dict):
            input_shape = input_shape["features"]
        self.encoder.build((None, self.input_dim))
        self.head.build((None, self.encoder_units[-1]))
        self.adversary.build((None, self.encoder_units[-1]))
        self.built = True

    def encode(self, features: Any, training: Any = None) -> Any:
        """The representation ``h`` (the encoder's output) of ``features``."""
        return self.encoder(features, training=training)

    def adversary_loss(self, representation: Any, sensitive: Any, training: Any = None) -> Any:
        """The adversary's mean cross-entropy ``L_S`` for S given the representation."""
        logits = self.adversary(self.reversal(representation), training=training)
        sensitive = ops.reshape(ops.cast(sensitive, "int32"), (-1,))
        return ops.mean(
            keras.losses.sparse_categorical_crossentropy(sensitive, logits, from_logits=True)
        )

    def call(self, inputs: Any, training: Any = None) -> Any:
        features, sensitive = split_inputs(inputs)
        representation = self.encode(features, training=training)
        if sensitive is not None and training:
            loss = self.adversary_loss(representation, sensitive, training=training)
            self.add_loss(loss)
            self.adversary_tracker.update_state(loss)
        elif training and self.gamma > 0:
            raise ValueError(
                "AdversarialClassifier is training without the sensitive attribute. Fit it on "
                '{"features": x, "sensitive": s}. Received: inputs without "sensitive"'
            )
        return self.head(representation)

    def train_step(self, data: Any) -> Any:
        if not self.alternating:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        features, sensitive = split_inputs(x)
        if sensitive is None:
            raise ValueError(
                "AdversarialClassifier is training without the sensitive attribute. Fit it on "
                '{"features": x, "sensitive": s}. Received: inputs without "sensitive"'
            )
        assert self.adversary_optimizer is not None  # Created by __init__ when alternating.
        # 1. The adversary, on the current representation held fixed.
        adversary_weights = self.adversary.trainable_variables
        with tf.GradientTape() as tape:
            representation = ops.stop_gradient(self.encode(features, training=True))
            adversary_loss = self.adversary_loss(representation, sensitive, training=True)
        gradients = tape.gradient(adversary_loss, adversary_weights)
        self.adversary_optimizer.apply(gradients, adversary_weights)
        # 2. The encoder and the head, against the updated adversary held fixed.
        predictor_weights = self.encoder.trainable_variables + self.head.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
        gradients = tape.gradient(loss, predictor_weights)
        if not self.optimizer.built:
            # Over all weights, as `compile_from_config` builds it when a model is reloaded.
            self.optimizer.build(self.trainable_variables)
        self.optimizer.apply(gradients, predictor_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        return self._config(
            encoder_units=list(self.encoder_units),
            adversary_units=list(self.adversary_units),
            gamma=self.gamma,
            num_groups=self.num_groups,
            alternating=self.alternating,
            adversary_learning_rate=self.adversary_learning_rate,
        )


def build_adversarial_classifier(
    input_dim: int,
    *,
    gamma: float = 0.5,
    encoder_units: Sequence[int] = (20, 20),
    adversary_units: Sequence[int] = (20,),
    num_groups: int = 2,
    alternating: bool = False,
    learning_rate: float = 1e-3,
    seed: int | None = 0,
) -> AdversarialClassifier:
    """A compiled :class:`AdversarialClassifier` for the objective ``(1-gamma) L_Y - gamma L_S``.

    Compiled with Adam, ``TradeoffLoss("binary_crossentropy", gamma)`` and an AUC metric.

    Args:
        input_dim: number of input features.
        gamma: trade-off in ``[0, 1]``.
        encoder_units: sizes of the encoder layers (the last is the representation).
        adversary_units: sizes of the adversary's hidden layers.
        num_groups: number of groups of S.
        alternating: alternating instead of simultaneous updates.
        learning_rate: Adam's learning rate (also the adversary's, when alternating).
        seed: seed of the initializers.

    Returns:
        The compiled model.

    Example:
        >>> import numpy as np
        >>> model = build_adversarial_classifier(5, gamma=0.3)
        >>> model.encode(np.zeros((2, 5), "float32")).shape
        TensorShape([2, 20])
    """
    model = AdversarialClassifier(
        input_dim,
        encoder_units=encoder_units,
        adversary_units=adversary_units,
        gamma=gamma,
        num_groups=num_groups,
        alternating=alternating,
        adversary_learning_rate=learning_rate,
        seed=seed,
        name="adv_cls",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=TradeoffLoss("binary_crossentropy", gamma=gamma),
        metrics=[keras.metrics.AUC(name="auc")],
    )
    return model
