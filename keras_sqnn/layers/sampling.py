"""Bernoulli sampling and the straight-through estimator of a stochastic binary unit.

The default sampler is tfp's ``Bernoulli``; the Philox sampler (``sampler="philox"``) is
fenced in here, with the raw stateless-RNG op it needs.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_probability as tfp

SAMPLERS = ("tfp", "philox")

# 2**-24: maps the top 24 random bits to a float32 in [0, 1) exactly.
_UNIT_INTERVAL_SCALE = 1.0 / 16777216.0
# tf.random.Algorithm.PHILOX.value, the id the raw stateless RNG ops take.
_PHILOX = 1


def replica_stream() -> Any:
    """The replica id under a distribution strategy with several replicas, else None.

    Every replica of a ``MirroredStrategy`` holds the same ``SeedGenerator`` state; the
    samplers draw from a separate stream per replica so that replicas get different noise.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync <= 1:
        return None
    return context.replica_id_in_sync_group


def _int32_seed(seed: Any, stream: Any = None) -> Any:
    seed = tf.convert_to_tensor(seed)
    if seed.dtype != tf.int32:
        seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), tf.int32.max - 1), tf.int32)
    if stream is None:
        return seed
    return tf.random.experimental.stateless_fold_in(seed, tf.cast(stream, tf.int32))


def philox_key_counter(seed: Any, stream: Any = None) -> tuple[Any, Any]:
    """The Philox-4x32-10 key and 128-bit start counter of a draw, as uint64 tensors.

    ``seed = (a, b)`` (int32 or int64) is used directly: ``a`` is the Philox key and ``b``
    the high 64 bits of the counter. The low 64 bits count the draws from ``stream * 2**48``
    on, so a draw of fewer than ``2**50`` words never reaches another stream's block. A
    layer's ``SeedGenerator`` holds ``(seed, step)`` and the stream is the replica id: the
    draws of two steps, or of two replicas in one step, never overlap. Unlike
    ``tf.random.stateless_uniform(..., alg="philox")`` it does not scramble the seed with an
    extra Philox call (about 15 ops per draw).
    """
    seed = tf.cast(seed, tf.uint64)
    counter = seed * tf.constant([0, 1], tf.uint64)  # (0, b)
    if stream is not None:
        low = tf.cast(stream, tf.uint64) * tf.constant(2**48, tf.uint64)
        counter = counter + low * tf.constant([1, 0], tf.uint64)
    return seed[:1], counter


def philox_bits(shape: Any, seed: Any, stream: Any = None) -> Any:
    """Uniform uint32 random bits of ``shape`` from Philox (see :func:`philox_key_counter`).

    The same op runs with and without XLA and gives the same bits.
    """
    key, counter = philox_key_counter(seed, stream)
    return tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=shape, key=key, counter=counter, alg=_PHILOX, dtype=tf.uint32
    )


def bernoulli_sample(theta: Any, seed: Any, sampler: str = "tfp") -> Any:
    """Draw ``T ~ Bernoulli(theta)`` elementwise as float32 zeros and ones.

    Each replica of a distribution strategy draws from its own stream of ``seed``.

    Args:
        theta: float32 probabilities.
        seed: int32 or int64 stateless seed of shape ``(2,)``.
        sampler: ``"tfp"`` samples ``tfp.distributions.Bernoulli(probs=theta)`` with the
            stateless seed: TensorFlow's stateless sampling, fast on GPU and TPU under XLA.
            ``"philox"`` draws 32-bit Philox words (:func:`philox_bits`) and compares their
            top 24 bits, as a float32 in [0, 1), with ``theta``: the choice for XLA on CPU
            (where the tfp draw compiles to a slow kernel), and the same bits with and
            without XLA on every device.
    """
    stream = replica_stream()
    if sampler == "tfp":
        distribution = tfp.distributions.Bernoulli(probs=theta, dtype=tf.float32)
        return distribution.sample(seed=_int32_seed(seed, stream))
    if sampler == "philox":
        bits = philox_bits(tf.shape(theta), seed, stream)
        top_bits = tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32))
        uniform = tf.cast(top_bits, tf.float32) * _UNIT_INTERVAL_SCALE
        return tf.cast(uniform < theta, tf.float32)
    raise ValueError(f"Expected `sampler` to be one of {SAMPLERS}. Received: sampler={sampler!r}")


@tf.custom_gradient
def straight_through(probabilities: Any, sample: Any) -> Any:
    """Return ``sample`` forward; pass the gradient to ``probabilities`` unchanged backward.

    The straight-through estimator of a Bernoulli unit: ``dT/dtheta := 1``, so the gradient
    reaches the pre-activation through the sigmoid's derivative. The sample is drawn outside
    this function and passed in, so no seed variable is read inside the gradient scope.
    """

    def gradient(upstream: Any) -> tuple[Any, Any]:
        return upstream, None  # the sample itself gets no gradient

    return tf.identity(sample), gradient
