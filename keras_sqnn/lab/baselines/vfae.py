"""The Variational Fair Autoencoder (VFAE) of Louizos et al. (2016), supervised part."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
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
from keras_sqnn.lab.baselines.mmd import group_mmd
from keras_sqnn.validation import check_positive_int

LOG_VARIANCE_RANGE = (-8.0, 8.0)
"""Predicted log-variances are clipped to this range, so that ``exp`` cannot overflow."""


def _split_statistics(statistics: Any, latent_dim: int) -> tuple[Any, Any]:
    """Mean and clipped log-variance from an MLP output of size ``2 * latent_dim``."""
    log_var = ops.clip(statistics[:, latent_dim:], *LOG_VARIANCE_RANGE)
    return statistics[:, :latent_dim], log_var


def _gaussian_kl(mean_q: Any, log_var_q: Any, mean_p: Any, log_var_p: Any) -> Any:
    """``KL(N(mean_q, exp(log_var_q)) || N(mean_p, exp(log_var_p)))`` summed over the last axis."""
    return 0.5 * ops.sum(
        log_var_p
        - log_var_q
        + (ops.exp(log_var_q) + ops.square(mean_q - mean_p)) / ops.exp(log_var_p)
        - 1.0,
        axis=-1,
    )


@keras_sqnn_export
class VariationalFairAutoencoder(FeatureClassifierModel):
    """VFAE: a semi-supervised VAE whose latent ``z1`` is made invariant to S with an MMD term.

    The generative model is ``p(x | z1, s) p(z1 | z2, y) p(z2)`` with ``p(z2) = N(0, I)``;
    the encoders are ``q(z1 | x, s)`` and ``q(z2 | z1, y)`` (diagonal Gaussians), and a
    classifier ``q(y | z1)`` predicts the label. Each distribution is an MLP with
    ``hidden_units`` ReLU layers. Per example, the loss is

    ``-log p(x | z1, s) + KL(q(z1|x,s) || p(z1|z2,y)) + KL(q(z2|z1,y) || p(z2))
    + classification_weight * BCE(y, q(y|z1))``

    with ``z1`` and ``z2`` sampled by the reparameterization trick and the KL terms in
    closed form (the ``z1`` term given the sampled ``z2``; log-variances are clipped to
    ``LOG_VARIANCE_RANGE`` for numerical safety), averaged over the batch, plus
    ``gamma * MMD^2`` between the sampled ``z1`` of each group and of the other groups
    (:func:`keras_sqnn.lab.baselines.mmd.group_mmd`: exact batch MMD with an RBF kernel, not
    random Fourier features). ``p(x | z1, s)`` is a unit-variance Gaussian (the features
    are standardized or one-hot), so ``-log p`` is half the squared error up to a constant.
    The semi-supervised part of Louizos et al. (unlabelled examples, with ``y``
    marginalised) is left out: every training example needs its label.

    S is an input of the encoder, so the model needs S at inference too: it takes
    ``{"features": x, "sensitive": s}`` in ``fit``, ``evaluate`` and ``predict`` and raises
    on features alone. Predictions are deterministic: ``q(y | z1)`` at the mean of
    ``q(z1 | x, s)`` (sampling happens only in the training loss). The representation
    (probed for ADRG) is that mean, :meth:`encode`.

    The loss is the model's own (``compute_loss``): compile with an optimizer and metrics
    but no ``loss``. The terms are logged as ``reconstruction``, ``kl``,
    ``classification`` and ``mmd``.

    Args:
        input_dim: number of input features.
        latent_dim: size of ``z1`` and ``z2``.
        hidden_units: hidden ReLU layers of every encoder, decoder and the classifier.
        gamma: weight of the MMD term, >= 0 (the ``beta`` of Louizos et al.).
        classification_weight: weight ``alpha`` of the classification term, >= 0. Our
            default 100 makes ``q(y | z1)`` the main term: at 1 the reconstruction and KL
            terms dominate, the encoder keeps a noisy ``z1`` and the classifier's scores
            shrink towards 0.5.
        num_groups: number of groups of S.
        mmd_bandwidth: RBF kernel width; None uses ``sqrt(latent_dim)``, for which two
            independent standard-normal codes have kernel value ``exp(-1)`` on average.
        seed: seed of the initializers and of the sampling noise.
        name: model name.

    Call arguments:
        inputs: ``{"features": (batch, input_dim), "sensitive": (batch,)}``.
        training: Python bool.

    Call returns:
        P(y=1), shape ``(batch, 1)``.

    Example:
        >>> import numpy as np
        >>> model = build_vfae(6, gamma=1.0, latent_dim=4, hidden_units=(8,))
        >>> x = np.random.rand(64, 6).astype("float32"); s = np.arange(64) % 2
        >>> history = model.fit({"features": x, "sensitive": s}, s, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['auc', 'classification', 'kl', 'loss', 'mmd', 'reconstruction']

    References:
        - Louizos, Swersky, Li, Welling and Zemel, "The Variational Fair Autoencoder",
          ICLR 2016.
        - Kingma, Rezende, Mohamed and Welling, "Semi-supervised Learning with Deep
          Generative Models", NeurIPS 2014.
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int = 10,
        hidden_units: Sequence[int] = (50,),
        gamma: float = 1.0,
        classification_weight: float = 100.0,
        num_groups: int = 2,
        mmd_bandwidth: float | None = None,
        seed: int | None = 0,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.hidden_units = check_units(hidden_units, "hidden_units", allow_empty=True)
        self.gamma = check_non_negative(gamma, "gamma")
        self.classification_weight = check_non_negative(
            classification_weight, "classification_weight"
        )
        self.num_groups = check_positive_int(num_groups, "num_groups", minimum=2)
        if mmd_bandwidth is not None and check_non_negative(mmd_bandwidth, "mmd_bandwidth") == 0:
            raise ValueError(
                "Expected `mmd_bandwidth` to be None or > 0. Received: mmd_bandwidth=0"
            )
        self.mmd_bandwidth = None if mmd_bandwidth is None else float(mmd_bandwidth)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.encoder_z1 = self._mlp(2 * self.latent_dim, 0, "encoder_z1")
        self.encoder_z2 = self._mlp(2 * self.latent_dim, 10, "encoder_z2")
        self.decoder_z1 = self._mlp(2 * self.latent_dim, 20, "decoder_z1")
        self.decoder_x = self._mlp(self.input_dim, 30, "decoder_x")
        self.classifier = self._mlp(1, 40, "classifier", activation="sigmoid")
        self.trackers = {
            term: keras.metrics.Mean(name=term)
            for term in ("reconstruction", "kl", "classification", "mmd")
        }
        self.build((None, self.input_dim))

    def _mlp(self, outputs: int, offset: int, name: str, activation: Any = None) -> Any:
        layers = [
            keras.layers.Dense(
                units, activation="relu", kernel_initializer=initializer(self.seed, offset + i)
            )
            for i, units in enumerate(self.hidden_units)
        ]
        layers.append(
            keras.layers.Dense(
                outputs,
                activation=activation,
                kernel_initializer=initializer(self.seed, offset + 9),
            )
        )
        return keras.Sequential(layers, name=name)

    def build(self, input_shape: Any) -> None:
        latent, groups = self.latent_dim, self.num_groups
        self.encoder_z1.build((None, self.input_dim + groups))
        self.encoder_z2.build((None, latent + 2))
        self.decoder_z1.build((None, latent + 2))
        self.decoder_x.build((None, latent + groups))
        self.classifier.build((None, latent))
        self.built = True

    @property
    def bandwidth(self) -> float:
        """The RBF kernel width of the MMD term."""
        if self.mmd_bandwidth is not None:
            return self.mmd_bandwidth
        return math.sqrt(self.latent_dim)

    def _sensitive(self, sensitive: Any) -> Any:
        if sensitive is None:
            raise ValueError(
                "VariationalFairAutoencoder needs the sensitive attribute, in training and at "
                'inference (its encoder is q(z1 | x, s)). Pass {"features": x, "sensitive": '
                's}. Received: inputs without "sensitive"'
            )
        return ops.reshape(ops.cast(sensitive, "int32"), (-1,))

    def encode(self, features: Any, sensitive: Any, training: Any = None) -> tuple[Any, Any]:
        """Mean and log-variance of ``q(z1 | x, s)``; the mean is the representation."""
        s_onehot = ops.one_hot(self._sensitive(sensitive), self.num_groups)
        features = ops.convert_to_tensor(features)
        inputs = ops.concatenate([features, ops.cast(s_onehot, features.dtype)], axis=-1)
        return _split_statistics(self.encoder_z1(inputs, training=training), self.latent_dim)

    def call(self, inputs: Any, training: Any = None) -> Any:
        features, sensitive = split_inputs(inputs)
        mean, _ = self.encode(features, sensitive, training=training)
        return self.classifier(mean, training=training)

    def _sample(self, mean: Any, log_var: Any) -> Any:
        noise = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """The negative VFAE lower bound plus the weighted classification and MMD terms."""
        if getattr(self, "loss", None) is not None:
            raise ValueError(
                "VariationalFairAutoencoder defines its own loss: compile it without `loss`. "
                f"Received: loss={self.loss!r}"
            )
        if y is None:
            raise ValueError("VariationalFairAutoencoder needs the labels `y` to compute its loss.")
        features, sensitive = split_inputs(x)
        groups = self._sensitive(sensitive)
        features = ops.convert_to_tensor(features)
        dtype = features.dtype
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        y_onehot = ops.cast(ops.one_hot(labels, 2), dtype)
        s_onehot = ops.cast(ops.one_hot(groups, self.num_groups), dtype)

        mean1, log_var1 = self.encode(features, groups, training=training)
        z1 = self._sample(mean1, log_var1) if training else mean1
        mean2, log_var2 = _split_statistics(
            self.encoder_z2(ops.concatenate([z1, y_onehot], -1), training=training),
            self.latent_dim,
        )
        z2 = self._sample(mean2, log_var2) if training else mean2
        prior_mean1, prior_log_var1 = _split_statistics(
            self.decoder_z1(ops.concatenate([z2, y_onehot], -1), training=training),
            self.latent_dim,
        )
        reconstruction = self.decoder_x(ops.concatenate([z1, s_onehot], -1), training=training)
        probability = self.classifier(z1, training=training)

        reconstruction_loss = 0.5 * ops.sum(ops.square(features - reconstruction), axis=-1)
        kl = _gaussian_kl(mean1, log_var1, prior_mean1, prior_log_var1) + _gaussian_kl(
            mean2, log_var2, ops.zeros_like(mean2), ops.zeros_like(log_var2)
        )
        classification = keras.losses.binary_crossentropy(
            ops.cast(labels, dtype)[:, None], probability
        )
        mmd = group_mmd(z1, groups, self.num_groups, self.bandwidth)

        terms = {
            "reconstruction": reconstruction_loss,
            "kl": kl,
            "classification": classification,
        }
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, dtype), (-1,))
            means = {
                key: ops.sum(value * weight) / ops.maximum(ops.sum(weight), 1e-12)
                for key, value in terms.items()
            }
        else:
            means = {key: ops.mean(value) for key, value in terms.items()}
        means["mmd"] = mmd
        for key, value in means.items():
            self.trackers[key].update_state(value)
        return (
            means["reconstruction"]
            + means["kl"]
            + self.classification_weight * means["classification"]
            + self.gamma * mmd
        )

    def get_config(self) -> dict[str, Any]:
        return self._config(
            latent_dim=self.latent_dim,
            hidden_units=list(self.hidden_units),
            gamma=self.gamma,
            classification_weight=self.classification_weight,
            num_groups=self.num_groups,
            mmd_bandwidth=self.mmd_bandwidth,
        )


def build_vfae(
    input_dim: int,
    *,
    gamma: float = 1.0,
    latent_dim: int = 10,
    hidden_units: Sequence[int] = (50,),
    classification_weight: float = 100.0,
    num_groups: int = 2,
    mmd_bandwidth: float | None = None,
    learning_rate: float = 1e-3,
    seed: int | None = 0,
) -> VariationalFairAutoencoder:
    """A compiled :class:`VariationalFairAutoencoder` (Adam, an AUC metric, its own loss).

    Args:
        input_dim: number of input features.
        gamma: weight of the MMD term.
        latent_dim: size of the latent codes.
        hidden_units: hidden layers of every sub-network.
        classification_weight: weight of the classification term.
        num_groups: number of groups of S.
        mmd_bandwidth: RBF kernel width (None: ``sqrt(latent_dim)``).
        learning_rate: Adam's learning rate.
        seed: seed of the initializers and the sampling.

    Returns:
        The compiled model.

    Example:
        >>> import numpy as np
        >>> model = build_vfae(5, gamma=2.0, latent_dim=3)
        >>> mean, log_var = model.encode(np.zeros((2, 5), "float32"), np.array([0, 1]))
        >>> tuple(mean.shape)
        (2, 3)
    """
    model = VariationalFairAutoencoder(
        input_dim,
        latent_dim=latent_dim,
        hidden_units=hidden_units,
        gamma=gamma,
        classification_weight=classification_weight,
        num_groups=num_groups,
        mmd_bandwidth=mmd_bandwidth,
        seed=seed,
        name="vfae",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), metrics=[keras.metrics.AUC(name="auc")]
    )
    return model
