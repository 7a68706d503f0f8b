"""A 2D convolution of stochastic binary units."""

from __future__ import annotations

from typing import Any

import keras

from keras_sqnn.api_export import keras_sqnn_export
from keras_sqnn.layers.stochastic_binary import StochasticBinaryMixin


@keras_sqnn_export
class StochasticBinaryConv2D(StochasticBinaryMixin, keras.layers.Conv2D):
    """2D convolution whose outputs are binary samples ``T ~ Bernoulli(sigmoid(conv(x)))``.

    Takes every argument of ``keras.layers.Conv2D`` with the same default except
    ``activation``, plus ``mi_estimator``, ``gamma``, ``num_groups``, ``condition_on``,
    ``num_classes``, ``inference``, ``sampler`` and ``seed`` exactly as
    :class:`StochasticBinaryDense` documents them. For the
    MI every output position and channel is one binary unit: the layer's code T has
    ``height * width * filters`` units, so the joint estimator uses its sampled form for
    all but tiny feature maps.

    Call arguments:
        inputs: a 4D tensor (``channels_last`` by default).
        sensitive: ``(batch,)`` integer ids of S (``(batch, k)`` for k attributes), or None.
        labels: ``(batch,)`` class ids of Y, with ``condition_on="labels"``.
        training: Python bool.

    Example:
        >>> import keras
        >>> from keras_sqnn.layers import StochasticBinaryConv2D
        >>> x = keras.Input((28, 28, 3)); s = keras.Input((), dtype="int32")
        >>> t = StochasticBinaryConv2D(8, 3, mi_estimator="bernoulli", gamma=0.1,
        ...                            num_groups=10, seed=0)(x, sensitive=s)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        groups: int = 1,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
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
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                f"Expected `filters` to be a positive integer. Received: filters={filters!r}"
            )
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
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
