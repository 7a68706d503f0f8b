"""What every stochastic binary layer shares: sampling, inference modes and the MI term."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_sqnn import estimators
from keras_sqnn.layers import in_place
from keras_sqnn.layers.sampling import SAMPLERS, bernoulli_sample, replica_stream, straight_through
from keras_sqnn.layers.scalar_mean import ScalarMean

INFERENCE_MODES = ("expectation", "threshold", "sample")
# Key of the seed generator's state among a layer's saved variables.
_SEED_STATE_KEY = "seed_generator_state"


class StochasticBinaryMixin:
    """Turns a linear layer's pre-activation z into binary samples ``T ~ Bernoulli(sigmoid(z))``.

    Used with a Keras layer that computes z (``keras.layers.Dense``, ``keras.layers.Conv2D``).
    The subclass calls :meth:`_init_stochastic` in its constructor and
    :meth:`_stochastic_binary` on z in ``call``.
    """

    name: str
    mi_estimator: estimators.MutualInformationEstimator | None
    gamma: float
    num_groups: int
    inference: str
    sampler: str
    seed: int | None
    seed_generator: Any
    mi_tracker: Any

    if TYPE_CHECKING:  # Provided by the keras.layers.Layer this mixin is combined with.

        def add_loss(self, loss: Any) -> None: ...

    def _init_stochastic(
        self,
        *,
        mi_estimator: Any,
        gamma: float,
        num_groups: int,
        inference: str,
        sampler: str,
        seed: int | None,
    ) -> None:
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma >= 0:
            raise ValueError(
                f"Expected `gamma` to be a finite float >= 0. Received: gamma={gamma!r}"
            )
        if not np.isfinite(gamma):
            raise ValueError(f"Expected `gamma` to be a finite float >= 0. Received: gamma={gamma}")
        if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
            raise TypeError(
                f"Expected `num_groups` to be an integer >= 2. Received: num_groups={num_groups!r}"
            )
        if num_groups < 2:
            raise ValueError(
                f"Expected `num_groups` to be an integer >= 2. Received: num_groups={num_groups}"
            )
        if inference not in INFERENCE_MODES:
            raise ValueError(
                f"Expected `inference` to be one of {INFERENCE_MODES}. "
                f"Received: inference={inference!r}"
            )
        if sampler not in SAMPLERS:
            raise ValueError(
                f"Expected `sampler` to be one of {SAMPLERS}. Received: sampler={sampler!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"Expected `seed` to be None or an integer. Received: seed={seed!r}")
        self.mi_estimator = estimators.get(mi_estimator)
        self.gamma = float(gamma)
        self.num_groups = int(num_groups)
        self.inference = inference
        self.sampler = sampler
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Named per layer so that two layers never overwrite each other's log entry.
        self.mi_tracker = (
            ScalarMean(name=f"{self.name}_mi") if self.mi_estimator is not None else None
        )

    def save_own_variables(self, store: Any) -> None:
        """Save the weights and the state of the seed generator.

        Keras saves a layer's weights only; without the seed generator's state a run restored
        from a checkpoint (``BackupAndRestore``, ``load_weights``) would draw the samples of
        the first steps again instead of continuing the random stream.
        """
        super().save_own_variables(store)  # type: ignore[misc]
        if getattr(self, "built", False):
            store[_SEED_STATE_KEY] = self.seed_generator.state

    def load_own_variables(self, store: Any) -> None:
        """Inverse of :meth:`save_own_variables`; files without the seed state still load."""
        if _SEED_STATE_KEY in store.keys():
            self.seed_generator.state.assign(store[_SEED_STATE_KEY])
            store = {key: store[key] for key in store.keys() if key != _SEED_STATE_KEY}
        super().load_own_variables(store)  # type: ignore[misc]

    def _stochastic_config(self) -> dict[str, Any]:
        return {
            "mi_estimator": estimators.serialize(self.mi_estimator),
            "gamma": self.gamma,
            "num_groups": self.num_groups,
            "inference": self.inference,
            "sampler": self.sampler,
            "seed": self.seed,
        }

    def probabilities(self, inputs: Any) -> Any:
        """``theta = sigmoid(z)``: the Bernoulli parameters of the units for ``inputs``."""
        return ops.sigmoid(self._pre_activation(inputs))

    def _pre_activation(self, inputs: Any) -> Any:
        raise NotImplementedError

    def sample(self, theta: Any) -> Any:
        """A Bernoulli(theta) sample in float32, drawn with the layer's seed generator."""
        theta32 = tf.cast(theta, tf.float32)
        return bernoulli_sample(theta32, self._next_seed(), self.sampler, stream=replica_stream())

    def _next_seed(self) -> Any:
        """The seed generator's state after moving it one step on: ``(seed, step)``.

        ``SeedGenerator.next()`` moves the state the same way (it returns the state before
        the step), in two reads, a copy and an assignment; here one in-place increment and
        one read where that is safe (:mod:`keras_sqnn.layers.in_place`).
        """
        state = self.seed_generator.state
        variable = in_place.tensorflow_variable(state)
        if variable is None:
            return self.seed_generator.next() + tf.constant([0, 1], state.dtype)
        return variable.assign_add(tf.constant([0, 1], variable.dtype))

    def _stochastic_binary(self, logits: Any, sensitive: Any, training: Any) -> Any:
        theta = ops.sigmoid(logits)
        # The MI is computed in float32 whatever the policy: in float16, 1 - 1e-6 rounds to 1.
        logits32 = ops.cast(logits, "float32")
        theta32 = theta if theta.dtype == "float32" else ops.sigmoid(logits32)
        if training:
            codes = straight_through(theta, ops.cast(self.sample(theta32), theta.dtype))
            if self.mi_estimator is not None:
                if sensitive is None:
                    raise ValueError(
                        f"Layer '{self.name}' has mi_estimator="
                        f"{estimators.serialize(self.mi_estimator)!r} and is training, but "
                        "received sensitive=None. Pass the sensitive attribute: "
                        "`layer(x, sensitive=s)`, or fit a keras_sqnn.models.SensitiveSequential "
                        'on {"features": x, "sensitive": s}. Set mi_estimator=None to train '
                        "without the regularizer."
                    )
                mi, checked = self._mutual_information(
                    theta32, ops.cast(codes, "float32"), sensitive, logits32
                )
                self.add_loss(self.gamma * mi)
                self.mi_tracker.update_state(mi)
                # Everything downstream waits for the cheap input checks (not for the MI
                # itself, which keeps running in parallel): in graph mode a bad batch then
                # fails the step before the optimizer updates any weight.
                with tf.control_dependencies([checked]):
                    codes = tf.identity(codes)
            return codes
        if sensitive is not None and self.mi_estimator is not None:
            # Reported, not optimised: `evaluate` logs the MI of the validation data.
            codes32 = self.sample(theta32)
            mi, _ = self._mutual_information(theta32, codes32, sensitive, logits32)
            self.mi_tracker.update_state(mi)
        if self.inference == "expectation":
            return theta
        if self.inference == "threshold":
            return ops.cast(theta >= 0.5, theta.dtype)
        return ops.cast(self.sample(theta32), theta.dtype)

    def _mutual_information(
        self, theta32: Any, codes32: Any, sensitive: Any, logits32: Any
    ) -> tuple[Any, Any]:
        """The checked MI term, and a tensor that exists only once the input checks passed."""
        assert self.mi_estimator is not None
        units = int(np.prod(theta32.shape[1:]))
        sensitive, valid = self._validated_sensitive(sensitive, theta32)
        # An inf input saturates theta at exactly 0 or 1 (a finite MI) while the kernel's
        # gradient, inf * sigmoid'(inf) = inf * 0, is NaN: check the pre-activations. Their
        # sum (kept out of autodiff) is NaN or inf if any of them is, and also when partial
        # sums pass float32's range (3.4e38). check_numerics of such scalars: one cheap op
        # per check that raises (in graph mode) with a message naming the layer.
        logits_sum = tf.reduce_sum(tf.stop_gradient(logits32))
        checked = tf.debugging.check_numerics(
            logits_sum,
            f"Layer '{self.name}': the inputs reaching this layer are not finite (NaN or "
            "inf) or too large (pre-activations summing past 3.4e38), so its "
            "mutual-information term and gradient would not be finite either",
        )
        nan_if_bad = logits_sum * 0.0
        if valid is not None:
            nan_if_bad_ids = tf.where(valid, 0.0, float("nan"))
            nan_if_bad = nan_if_bad + nan_if_bad_ids
            checked = tf.debugging.check_numerics(
                checked * 0.0 + nan_if_bad_ids,  # (after the first check: its message first)
                f"Layer '{self.name}': expected `sensitive` values in [0, {self.num_groups}) "
                f"(num_groups={self.num_groups}), one per example (the inputs' batch size). "
                "Received other values or another batch size; run the model eagerly "
                "(e.g. `fit(..., run_eagerly=True)`) to see them",
            )
            # The estimator's ops wait for the check: the clear message comes first.
            with tf.control_dependencies([checked]):
                sensitive = tf.identity(sensitive)
        theta_flat = ops.reshape(theta32, (-1, units))
        codes_flat = ops.reshape(codes32, (-1, units))
        logits_flat = ops.reshape(logits32, (-1, units))
        mi = self.mi_estimator(
            theta_flat, codes_flat, sensitive, self.num_groups, logits=logits_flat
        )
        # Under XLA the checks are compiled out: a bad batch then makes the MI (hence the
        # loss) NaN instead of being silently dropped from the group statistics.
        # (A `where`, not a sum: the MI's gradient must be 0 too, not that of the batch with
        # the bad examples left out.)
        mi = tf.where(tf.math.is_nan(nan_if_bad), nan_if_bad, mi)
        # Checked inputs can still overflow inside an estimator (e.g. pre-activations near
        # 1e38 in the joint one's softplus sums): one more scalar check.
        mi = tf.debugging.check_numerics(
            mi, f"Layer '{self.name}': the mutual-information term is not finite (NaN or inf)"
        )
        return mi, checked

    def _validated_sensitive(self, sensitive: Any, theta: Any) -> tuple[Any, Any]:
        """``sensitive`` as int32 of shape (batch,), and whether all ids are in range.

        The flag is None when the ids were checked here, in eager mode; in graph mode it is a
        boolean tensor that also holds whether the batch sizes of the ids and inputs agree.
        """
        sensitive = tf.convert_to_tensor(sensitive)
        if not (sensitive.dtype.is_integer):
            raise TypeError(
                "Expected `sensitive` to hold integer group ids in "
                f"[0, {self.num_groups}). Received: sensitive with dtype={sensitive.dtype.name}. "
                "Encode groups as integers (e.g. with numpy.unique(..., return_inverse=True))."
            )
        if sensitive.shape.rank == 2 and sensitive.shape[-1] == 1:
            sensitive = tf.reshape(sensitive, (-1,))
        if sensitive.shape.rank != 1:
            raise ValueError(
                "Expected `sensitive` of shape (batch,) or (batch, 1). "
                f"Received: sensitive with shape={tuple(sensitive.shape)}"
            )
        batch = theta.shape[0]
        if batch is not None and sensitive.shape[0] is not None and batch != sensitive.shape[0]:
            raise ValueError(
                f"Expected `sensitive` to have the batch size of the inputs ({batch}). "
                f"Received: sensitive with batch size {sensitive.shape[0]}"
            )
        # Checked before the cast to int32, which would wrap int64 ids (2**32 -> 0).
        if tf.executing_eagerly():
            values = sensitive.numpy()
            bad = values[(values < 0) | (values >= self.num_groups)]
            if bad.size:
                raise ValueError(
                    f"Expected `sensitive` values in [0, {self.num_groups}) for layer "
                    f"'{self.name}' (num_groups={self.num_groups}). "
                    f"Received: sensitive values {sorted(set(bad.tolist()))[:10]}"
                )
            return tf.cast(sensitive, tf.int32), None
        if sensitive.dtype in (tf.int32, tf.int64):
            # One comparison: negative ids wrap to huge unsigned values.
            unsigned = tf.uint32 if sensitive.dtype == tf.int32 else tf.uint64
            valid = tf.reduce_all(tf.bitcast(sensitive, unsigned) < self.num_groups)
        else:
            wide = tf.cast(sensitive, tf.int64)
            valid = tf.reduce_all((wide >= 0) & (wide < self.num_groups))
        if batch is None or sensitive.shape[0] is None:
            same_batch = tf.equal(tf.shape(sensitive)[0], tf.shape(theta)[0])
            valid = tf.logical_and(valid, same_batch)
        return tf.cast(sensitive, tf.int32), valid
