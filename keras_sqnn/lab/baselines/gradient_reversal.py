"""The gradient-reversal layer of domain-adversarial training (Ganin et al. 2016)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from keras_sqnn.api_export import keras_sqnn_export
from keras_sqnn.lab.baselines._inputs import check_non_negative


def reverse_gradient(x: Any, scale: float = 1.0) -> Any:
    """Identity forward; multiplies the gradient by ``-scale`` backward.

    Args:
        x: a tensor.
        scale: the factor ``lambda >= 0`` of the reversed gradient.

    Returns:
        ``x`` (a new tensor with the same value).

    Example:
        >>> import tensorflow as tf
        >>> x = tf.constant([1.0, 2.0])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = tf.reduce_sum(3.0 * reverse_gradient(x, 0.5))
        >>> tape.gradient(y, x).numpy().tolist()
        [-1.5, -1.5]
    """
    scale = float(scale)

    @tf.custom_gradient
    def _reverse(value: Any) -> Any:
        def gradient(upstream: Any) -> Any:
            return tf.cast(-scale, upstream.dtype) * upstream

        return tf.identity(value), gradient

    return _reverse(tf.convert_to_tensor(x))


@keras_sqnn_export
class GradientReversal(keras.layers.Layer):
    """Passes its input through unchanged and reverses (and scales) the gradient.

    Placed between an encoder and an adversary, it lets one minimisation train the adversary
    to predict S from the representation while the encoder receives ``-scale`` times the
    adversary's gradient, i.e. learns to make S unpredictable (Ganin et al. 2016).

    Args:
        scale: ``lambda >= 0``; the gradient flowing back is ``-scale * upstream``.
        **kwargs: base layer arguments (``name``, ``dtype``).

    Call arguments:
        inputs: a tensor of any shape.

    Call returns:
        ``inputs``.

    Example:
        >>> import keras, numpy as np
        >>> layer = GradientReversal(scale=0.5)
        >>> layer(np.ones((2, 3), "float32")).shape
        TensorShape([2, 3])

    References:
        - Ganin, Ustinova, Ajakan et al., "Domain-Adversarial Training of Neural
          Networks", JMLR 17, 2016.
    """

    def __init__(self, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = check_non_negative(scale, "scale")
        self.supports_masking = True

    def call(self, inputs: Any) -> Any:
        return reverse_gradient(inputs, self.scale)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["scale"] = self.scale
        return config
