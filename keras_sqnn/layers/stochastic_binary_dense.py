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
        num_groups: number of values of S (ids ``0 .. num_groups - 1``), or a tuple
            ``(g_1, ..., g_k)`` for k sensitive attributes at once: S is then ``(batch, k)``,
            the MI is taken against their intersection (one mixed-radix id per row) and
            evaluation also logs the MI with each attribute alone as ``<layer name>_mi_<i>``.
        condition_on: None (default): the regularizer is ``I(T; S)``, independence of the
            code from S (demographic parity of the representation). ``"labels"``: it is
            ``I(T; S | Y) = I(T; (S, Y)) - I(T; Y)``, the information about S beyond what the
            class Y explains (separation / equalized odds); the layer then also takes
            ``labels`` (``SensitiveSequential`` passes its training targets).
        num_classes: number of classes of Y with ``condition_on="labels"`` (ids
            ``0 .. num_classes - 1``; floats holding whole numbers, e.g. 0.0 / 1.0 targets of
            a binary cross-entropy, are taken as ids; one-hot labels are an error).
        inference: output at ``training=False``. ``"expectation"`` (default) returns theta:
            deterministic (so exported models serve reproducibly), the mean-field value the
            next layer saw on average in training, and it does not turn a near-uninformative
            unit (theta = 0.5 +- eps depending on S) into a deterministic copy of S the way
            ``"threshold"`` (``theta >= 0.5``) can. ``"sample"`` draws a fresh sample: use it
            when a ``BatchNormalization`` follows, whose moving statistics were learnt on
            0/1 codes, not on theta. The MI regularizer measures what a sampled code
            carries about S, not theta: with ``"expectation"`` a model whose code carries
            almost nothing can still score with a group gap (README, "What the MI covers").
        sampler: ``"tfp"`` (default) draws with ``tfp.distributions.Bernoulli`` and a stateless
            seed from the layer's seed generator: TensorFlow's stateless sampling, fast on
            GPU and TPU under XLA. ``"philox"`` draws raw Philox bits: the choice for XLA on
            CPU, where the tfp draw compiles to a slow kernel (on a 2-vCPU machine a training
            step of a small MLP costs 1.2x the plain MLP with either sampler without XLA, but
            with XLA about 3.9x with tfp against 1.4x with Philox; docs/PERFORMANCE.md).
        seed: seed of the layer's ``keras.random.SeedGenerator``; a given seed reproduces
            the same samples.

    Call arguments:
        inputs: ``(batch, ..., input_dim)`` tensor.
        sensitive: ``(batch,)`` integer ids of S (``(batch, k)`` for k attributes), or None;
            floats holding whole numbers are taken as ids, other floats are an error.
            Required in training when ``mi_estimator`` is set; used at evaluation only to
            log the MI.
        labels: ``(batch,)`` class ids of Y, with ``condition_on="labels"``.
        training: Python bool.

    Bad inputs: ids of S outside ``[0, num_groups)``, of another batch size or of a float
    dtype, and non-finite inputs, raise an error naming the layer, eagerly or inside ``fit``
    before any weight changes. Under ``jit_compile=True`` (Keras' default on GPU) XLA drops
    runtime checks: such a batch then logs a NaN MI and a NaN loss
    (``keras.callbacks.TerminateOnNaN`` stops there) and its MI term gives no gradient.

    Example:
        >>> import keras, numpy as np
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> x = keras.Input((20,), name="features")
        >>> s = keras.Input((), dtype="int32", name="sensitive")
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
        num_groups: int | tuple[int, ...] = 2,
        condition_on: str | None = None,
        num_classes: int = 2,
        inference: str = "expectation",
        sampler: str = "tfp",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Expected `units` to be a positive integer. Received: units={units!r}"
            )
        super().__init__(
            units,
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
            mi_estimator=mi_estimator,
            gamma=gamma,
            num_groups=num_groups,
            condition_on=condition_on,
            num_classes=num_classes,
            inference=inference,
            sampler=sampler,
            seed=seed,
            **kwargs,
        )
