"""A densely connected layer of stochastic binary units."""

from __future__ import annotations

from typing import Any

import keras

from keras_sqnn.api_export import keras_sqnn_export
from keras_sqnn.layers.stochastic_binary import StochasticBinaryMixin


@keras_sqnn_export
class StochasticBinaryDense(StochasticBinaryMixin, keras.layers.Dense):
    """Dense layer whose outputs are binary samples ``T ~ Bernoulli(sigmoid(x @ kernel + bias))``.

    The stochastic layer of an SQNN (Cerrato et al. 2022). In training each unit outputs a
    0/1 sample; the gradient passes straight through the sampling (``dT/dtheta := 1``).
    Because T is a discrete random vector its mutual information with a sensitive attribute
    S is finite, and with ``mi_estimator`` set the layer adds ``gamma * I(T; S)`` (in bits,
    over the batch) to the model's losses and logs the MI as ``<layer name>_mi``.

    Takes every argument of ``keras.layers.Dense`` with the same default except
    ``activation`` (the sigmoid is part of the definition), plus:

    Args:
        units: number of binary units.
        mi_estimator: None (no regularizer), ``"bernoulli"`` (the paper's ``BinaryBernoulli``
            ``sum_i I(T_i; S)``: a cheap surrogate, not an upper bound on ``I(T; S)`` in
            general), ``"joint"`` (``I(T; S)`` of the whole layer, exact up to 12 units and an
            unbiased sampled estimate above), or a
            :class:`keras_sqnn.estimators.MutualInformationEstimator`.
        gamma: weight of the MI term; the model minimises ``task loss + gamma * MI``. For
            the paper's ``gamma * MI + (1 - gamma) * task loss`` compile with
            ``loss=keras_sqnn.losses.TradeoffLoss(task_loss, gamma)``.
        num_groups: number of values of S (ids ``0 .. num_groups - 1``).
        inference: output at ``training=False``. ``"expectation"`` (default) returns theta:
            deterministic (so exported models serve reproducibly), the mean-field value the
            next layer saw on average in training, and it does not turn a near-uninformative
            unit (theta = 0.5 +- eps depending on S) into a deterministic copy of S the way
            ``"threshold"`` (``theta >= 0.5``) can. ``"sample"`` draws a fresh sample.
        sampler: ``"philox"`` (default; same samples with and without XLA, fast under XLA)
            or ``"tfp"`` (``tfp.distributions.Bernoulli``); see
            :func:`keras_sqnn.layers.sampling.bernoulli_sample`.
        seed: seed of the layer's ``keras.random.SeedGenerator``; a given seed reproduces
            the same samples.

    Call arguments:
        inputs: ``(batch, ..., input_dim)`` tensor.
        sensitive: ``(batch,)`` integer ids of S, or None. Required in training when
            ``mi_estimator`` is set; used at evaluation only to log the MI.
        training: Python bool.

    Example:
        >>> import keras, numpy as np
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> x = keras.Input((20,)); s = keras.Input((), dtype="int32")
        >>> t = StochasticBinaryDense(16, mi_estimator="bernoulli", gamma=0.3, seed=1)(
        ...     x, sensitive=s)
        >>> y = keras.layers.Dense(1, activation="sigmoid")(t)
        >>> model = keras.Model({"features": x, "sensitive": s}, y)

    References:
        Cerrato, Köppel, Esposito, Kramer (2022). Invariant Representations with
        Stochastically Quantized Neural Networks. AAAI.
    """

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        mi_estimator: Any = None,
        gamma: float = 0.0,
        num_groups: int = 2,
        inference: str = "expectation",
        sampler: str = "philox",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        _reject_activation(kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Expected `units` to be a positive integer. Received: units={units!r}"
            )
        super().__init__(
            units,
            activation=None,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            quantization_config=quantization_config,
            **kwargs,
        )
        self._init_stochastic(
            mi_estimator=mi_estimator,
            gamma=gamma,
            num_groups=num_groups,
            inference=inference,
            sampler=sampler,
            seed=seed,
        )

    def _pre_activation(self, inputs: Any) -> Any:
        return super().call(inputs)

    def call(self, inputs: Any, sensitive: Any = None, training: Any = None) -> Any:
        return self._stochastic_binary(self._pre_activation(inputs), sensitive, training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activation", None)
        return {**config, **self._stochastic_config()}


def _reject_activation(kwargs: dict[str, Any]) -> None:
    activation = kwargs.pop("activation", None)
    if activation is not None:
        raise ValueError(
            "Stochastic binary layers have no `activation` argument: the units are "
            "Bernoulli(sigmoid(z)) by definition. Received: "
            f"activation={activation!r}"
        )
