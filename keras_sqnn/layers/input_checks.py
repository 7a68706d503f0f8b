"""The checks a stochastic layer runs on what reaches its MI term, one helper per input.

Each returns a boolean scalar tensor: whether the input is valid. Eagerly a bad input raises
at once. In a graph the flag comes out of a ``tf.debugging.Assert``, so the step raises
(naming the layer) when it evaluates the flag; the layer makes its output wait for it, so a
bad batch stops ``fit`` before the optimizer changes a weight. XLA drops assertions: under
``jit_compile`` the flag is all that is left, and the layer turns its MI into NaN with it.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def check_group_ids(
    sensitive: Any, *, num_groups: int, batch_size: Any, layer_name: str
) -> tuple[Any, Any]:
    """``sensitive`` as int32 group ids of shape ``(batch,)``, and whether they are valid.

    Valid: integer dtype, shape ``(batch,)`` or ``(batch, 1)``, the inputs' batch size and
    every id in ``[0, num_groups)``. The dtype and static shapes are checked at once.

    Args:
        sensitive: the ids passed to the layer.
        num_groups: the layer's number of groups.
        batch_size: the inputs' batch size (an int or a scalar tensor).
        layer_name: named in the error messages.
    """
    sensitive = tf.convert_to_tensor(sensitive)
    if not sensitive.dtype.is_integer:
        raise TypeError(
            f"Expected `sensitive` to hold integer group ids in [0, {num_groups}) for layer "
            f"'{layer_name}'. Received: sensitive with dtype={sensitive.dtype.name}. "
            "Encode groups as integers, e.g. with keras_sqnn.encode_groups(s)."
        )
    if sensitive.shape.rank == 2 and sensitive.shape[-1] == 1:
        sensitive = tf.reshape(sensitive, (-1,))
    if sensitive.shape.rank != 1:
        raise ValueError(
            f"Expected `sensitive` of shape (batch,) or (batch, 1) for layer '{layer_name}'. "
            f"Received: sensitive with shape={tuple(sensitive.shape)}"
        )
    if isinstance(batch_size, int) and sensitive.shape[0] not in (None, batch_size):
        raise ValueError(
            f"Expected `sensitive` to have the batch size of the inputs ({batch_size}) for "
            f"layer '{layer_name}'. Received: sensitive with batch size {sensitive.shape[0]}"
        )
    # Compared before the cast to int32, which would wrap int64 ids (2**32 -> 0).
    wide = tf.cast(sensitive, tf.int64)
    in_range = (wide >= 0) & (wide < num_groups)
    if tf.executing_eagerly():
        bad = wide.numpy()[~in_range.numpy()]
        if bad.size:
            raise ValueError(
                f"Expected `sensitive` values in [0, {num_groups}) for layer '{layer_name}' "
                f"(num_groups={num_groups}). Received: sensitive values "
                f"{sorted(set(bad.tolist()))[:10]}"
            )
    valid = tf.reduce_all(in_range) & tf.equal(tf.shape(sensitive)[0], batch_size)
    return tf.cast(sensitive, tf.int32), _asserted(
        valid,
        f"Layer {layer_name}: expected `sensitive` values in [0, {num_groups}) "
        f"(num_groups={num_groups}), one per example (the inputs' batch size). Received "
        "other values or another batch size; run the model eagerly (e.g. "
        "`fit(..., run_eagerly=True)`) to see them",
    )


def check_finite(pre_activations: Any, *, layer_name: str) -> Any:
    """Whether every pre-activation is finite (an inf one makes the kernel's gradient NaN)."""
    finite = tf.reduce_all(tf.math.is_finite(tf.stop_gradient(pre_activations)))
    return _asserted(
        finite,
        f"Layer {layer_name}: the inputs reaching this layer are not finite (NaN or inf), "
        "so its mutual-information term and gradient would not be finite either",
    )


def _asserted(flag: Any, message: str) -> Any:
    """``flag``, evaluated only after an assertion that it holds (raising ``message``).

    (``tf.debugging.Assert`` with string data is one op; ``assert_equal`` would add a
    ``cond``. A graph's assertion prints its message with quotes escaped: the messages quote
    nothing.)
    """
    with tf.control_dependencies([tf.debugging.Assert(flag, [message])]):
        return tf.identity(flag)
