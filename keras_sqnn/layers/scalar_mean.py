"""A lean running mean of one scalar per update: how a layer logs its MI term in ``fit``."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from keras_sqnn.api_export import keras_sqnn_export


@keras_sqnn_export
class ScalarMean(keras.metrics.Metric):
    """The mean of the scalars passed to ``update_state`` since the last reset.

    What ``keras.metrics.Mean`` gives for scalar values without sample weights, in one
    ``(total, count)`` variable that keeps the metric's dtype under a mixed-precision policy
    (it is not autocast), so values logged from float16 layers are summed in float32.

    Example:
        >>> metric = ScalarMean(name="sbd_mi")
        >>> metric.update_state(1.0); metric.update_state(2.0)
        >>> float(metric.result())
        1.5
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        with keras.name_scope(self.name.replace("/", ">")):
            self.total_and_count = keras.Variable(
                initializer="zeros",
                shape=(2,),
                dtype=self.dtype,
                trainable=False,
                autocast=False,
                aggregation="sum",
                synchronization="on_read",
                name="total_and_count",
            )

    def update_state(self, value: Any) -> None:
        value = tf.cast(value, self.dtype)
        if value.shape.rank != 0:
            raise ValueError(
                f"Expected `value` to be a scalar. Received: value with shape={value.shape}"
            )
        self.total_and_count.assign_add(tf.stack([value, tf.ones_like(value)]))

    def result(self) -> Any:
        total, count = tf.unstack(tf.convert_to_tensor(self.total_and_count))
        return tf.math.divide_no_nan(total, count)
