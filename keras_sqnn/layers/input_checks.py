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
    values: Any,
    *,
    num_groups: int | tuple[int, ...],
    batch_size: Any,
    layer_name: str,
    argument: str = "sensitive",
    integral_floats: bool = False,
) -> tuple[Any, Any]:
    """``values`` as int32 ids of shape ``(batch, k)``, and whether they are valid.

    Valid: an integer dtype (or, with ``integral_floats``, floats holding whole numbers),
    shape ``(batch,)`` or ``(batch, 1)`` for one attribute, ``(batch, k)`` for
    ``num_groups=(g_1, ..., g_k)``, the inputs' batch size, and column i in ``[0, g_i)``. The
    dtype and static shapes are checked at once.

    Args:
        values: the ids passed to the layer (``sensitive``, or ``labels``).
        num_groups: the number of values of the attribute, or one per attribute.
        batch_size: the inputs' batch size (an int or a scalar tensor).
        layer_name: named in the error messages.
        argument: the argument's name in the error messages.
        integral_floats: accept floats that hold whole numbers (class labels of a binary
            cross-entropy task are often 0.0 / 1.0).
    """
    radices = (num_groups,) if isinstance(num_groups, int) else tuple(num_groups)
    count_name = "num_classes" if argument == "labels" else "num_groups"
    bounds = radices[0] if len(radices) == 1 else radices
    values = tf.convert_to_tensor(values)
    is_float = values.dtype.is_floating
    if not values.dtype.is_integer and not (integral_floats and is_float):
        raise TypeError(
            f"Expected `{argument}` to hold integer ids in [0, {bounds}) for layer "
            f"'{layer_name}'. Received: {argument} with dtype={values.dtype.name}. "
            "Encode groups as integers, e.g. with keras_sqnn.encode_groups(s)."
        )
    if values.shape.rank == 1 or values.shape.rank is None:
        # (A retraced step may see labels of unknown rank; the assertion checks the size.)
        values = tf.reshape(values, (-1, len(radices)))
    if values.shape.rank != 2 or values.shape[-1] != len(radices):
        expected = "(batch,) or (batch, 1)" if len(radices) == 1 else f"(batch, {len(radices)})"
        raise ValueError(
            f"Expected `{argument}` of shape {expected} for layer '{layer_name}' "
            f"({count_name}={num_groups}). Received: {argument} with shape={values.shape}"
        )
    if isinstance(batch_size, int) and values.shape[0] not in (None, batch_size):
        raise ValueError(
            f"Expected `{argument}` to have the batch size of the inputs ({batch_size}) for "
            f"layer '{layer_name}'. Received: {argument} with batch size {values.shape[0]}"
        )
    # Compared before the cast to int32, which would wrap int64 ids (2**32 -> 0).
    wide = tf.cast(values, tf.int64)
    in_range = (wide >= 0) & (wide < tf.constant(radices, tf.int64))
    if is_float:
        in_range &= tf.equal(values, tf.math.floor(values))
    if tf.executing_eagerly():
        bad = values.numpy()[~in_range.numpy().all(axis=1)]
        if bad.size:
            shown = sorted({tuple(row) if len(radices) > 1 else row[0] for row in bad.tolist()})
            raise ValueError(
                f"Expected `{argument}` values in [0, {bounds}), as integer ids, for layer "
                f"'{layer_name}' "
                f"({count_name}={num_groups}). Received: {argument} values {shown[:10]}"
            )
    valid = tf.reduce_all(in_range) & tf.equal(tf.shape(values)[0], batch_size)
    return tf.cast(wide, tf.int32), _asserted(
        valid,
        f"Layer {layer_name}: expected `{argument}` values in [0, {bounds}), as integer ids "
        f"({count_name}={num_groups}), one per example (the inputs' batch size). Received "
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
