"""What every stochastic binary layer shares: sampling, inference modes and the MI term."""

from __future__ import annotations

import math
import numbers
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_sqnn import estimators
from keras_sqnn.information import conditional_mutual_information, mixed_radix_ids
from keras_sqnn.layers.input_checks import check_finite, check_group_ids
from keras_sqnn.layers.sampling import SAMPLERS, bernoulli_sample, straight_through
from keras_sqnn.layers.scalar_mean import ScalarMean

INFERENCE_MODES = ("expectation", "threshold", "sample")
CONDITIONS = (None, "labels")
# Key of the seed generator's state among a layer's saved variables.
_SEED_STATE_KEY = "seed_generator_state"


class StochasticBinaryMixin:
    """Turns a Keras linear layer into binary samples ``T ~ Bernoulli(sigmoid(z))``.

    Put it before the Keras layer that computes the pre-activation z
    (``class StochasticBinaryDense(StochasticBinaryMixin, keras.layers.Dense)``): the mixin
    takes the new arguments (``mi_estimator``, ``gamma``, ``num_groups``, ``condition_on``,
    ``num_classes``, ``inference``, ``sampler``, ``seed``), rejects ``activation``, and
    provides ``call`` and ``get_config``.
    """

    name: str  # set by keras.layers.Layer
    mi_tracker: Any

    def __init__(
        self,
        *args: Any,
        mi_estimator: Any,
        gamma: float,
        num_groups: int | tuple[int, ...],
        condition_on: str | None,
        num_classes: int,
        inference: str,
        sampler: str,
        seed: int | None,
        activation: Any = None,
        **kwargs: Any,
    ) -> None:
        """Takes the new arguments by name (the layer's own signature gives their defaults)."""
        if activation is not None:
            raise ValueError(
                "Stochastic binary layers have no `activation` argument: the units are "
                f"Bernoulli(sigmoid(z)) by definition. Received: activation={activation!r}"
            )
        radices = _check_arguments(
            gamma, num_groups, condition_on, num_classes, inference, sampler, seed
        )
        mi_estimator = estimators.get(mi_estimator)
        if mi_estimator is None and gamma > 0:
            raise ValueError(
                "Expected `mi_estimator` ('bernoulli', 'joint' or an estimator) when `gamma` > 0: "
                f"without one the layer adds no MI term. Received: gamma={gamma!r}, "
                "mi_estimator=None"
            )
        super().__init__(*args, activation=None, **kwargs)  # type: ignore[call-arg]
        self.mi_estimator = mi_estimator
        self.gamma = float(gamma)
        self.num_groups = radices[0] if len(radices) == 1 else radices
        self.condition_on = condition_on
        self.num_classes = int(num_classes)
        self.inference = inference
        self.sampler = sampler
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        # Named per layer so that two layers never overwrite each other's log entry.
        self.mi_tracker = None if mi_estimator is None else ScalarMean(name=f"{self.name}_mi")
        # With several attributes, the logs also hold the MI with each one alone.
        self.attribute_trackers = (
            [ScalarMean(name=f"{self.name}_mi_{i}") for i in range(len(radices))]
            if mi_estimator is not None and len(radices) > 1
            else []
        )

    def call(
        self, inputs: Any, sensitive: Any = None, labels: Any = None, training: Any = None
    ) -> Any:
        logits = super().call(inputs)  # type: ignore[misc]
        theta = ops.sigmoid(logits)
        if training:
            codes = straight_through(theta, self.sample(theta))
            if self.mi_estimator is None:
                return codes
            mi, per_attribute, inputs_valid = self._mutual_information(
                logits, theta, codes, sensitive, labels, per_attribute=bool(self.attribute_trackers)
            )
            self.add_loss(self.gamma * mi)  # type: ignore[attr-defined]
            self._log_information(mi, per_attribute)
            # The output waits for the input checks: in a graph a bad batch fails the step
            # before the optimizer changes any weight.
            with tf.control_dependencies([inputs_valid]):
                return tf.identity(codes)
        conditional_without_labels = self.condition_on == "labels" and labels is None
        if (
            sensitive is not None
            and self.mi_estimator is not None
            and not conditional_without_labels
        ):
            # Logged, not optimised: `evaluate` reports the MI of the validation data.
            mi, per_attribute, _ = self._mutual_information(
                logits, theta, self.sample(theta), sensitive, labels, per_attribute=True
            )
            self._log_information(mi, per_attribute)
        if self.inference == "expectation":
            return theta
        if self.inference == "threshold":
            return ops.cast(theta >= 0.5, theta.dtype)
        return self.sample(theta)

    def _log_information(self, mi: Any, per_attribute: list[Any]) -> None:
        """Update ``<name>_mi`` and, for several attributes, ``<name>_mi_<i>``."""
        self.mi_tracker.update_state(mi)
        for tracker, value in zip(self.attribute_trackers, per_attribute, strict=True):
            tracker.update_state(tf.stop_gradient(value))  # logged, not optimised

    def probabilities(self, inputs: Any) -> Any:
        """``theta = sigmoid(z)``: the Bernoulli parameters of the units for ``inputs``."""
        return ops.sigmoid(super().call(inputs))  # type: ignore[misc]

    def sample(self, theta: Any) -> Any:
        """A Bernoulli(theta) sample in theta's dtype, drawn with the layer's seed generator."""
        codes = bernoulli_sample(
            ops.cast(theta, "float32"), self.seed_generator.next(), self.sampler
        )
        return ops.cast(codes, theta.dtype)

    def _mutual_information(
        self,
        logits: Any,
        theta: Any,
        codes: Any,
        sensitive: Any,
        labels: Any,
        per_attribute: bool = False,
    ) -> tuple[Any, list[Any], Any]:
        """The MI of the codes with S (given Y) in bits (float32), the MI with each attribute
        alone (if ``per_attribute`` and S has several), and whether the inputs were valid."""
        self._check_present(sensitive, labels)
        # Every output position and channel is a unit. The MI is in float32 whatever the
        # policy: in float16, theta = 1 - 1e-6 rounds to 1.
        if None in logits.shape[1:]:
            raise ValueError(
                f"Layer '{self.name}' needs a static output shape (but the batch) for its MI "
                f"term: every position and channel is a unit. Received: output shape "
                f"{tuple(logits.shape)}"
            )
        units = int(np.prod(logits.shape[1:]))
        logits = ops.reshape(ops.cast(logits, "float32"), (-1, units))
        theta = ops.sigmoid(logits) if theta.dtype != "float32" else ops.reshape(theta, (-1, units))
        codes = ops.reshape(ops.cast(codes, "float32"), (-1, units))
        name, batch = self.name, _batch_size(logits)
        radices = _radices(self.num_groups)
        columns, inputs_valid = check_group_ids(
            sensitive,
            num_groups=self.num_groups,
            batch_size=batch,
            layer_name=name,
            integral_floats=True,
        )
        classes = None
        if self.condition_on == "labels":
            classes, labels_valid = check_group_ids(
                labels,
                num_groups=self.num_classes,
                batch_size=batch,
                layer_name=name,
                argument="labels",
                integral_floats=True,
            )
            inputs_valid &= labels_valid
        inputs_valid &= check_finite(logits, layer_name=name)

        def information(ids: Any, count: int) -> Any:
            """I(T; ids), or I(T; ids | Y) when conditioning on the labels."""

            def estimate(group_ids: Any, group_count: int) -> Any:
                assert self.mi_estimator is not None
                return self.mi_estimator(theta, codes, group_ids, group_count, logits=logits)

            if classes is None:
                return estimate(ids, count)
            return conditional_mutual_information(
                estimate, ids, classes[:, 0], count, self.num_classes
            )

        with tf.control_dependencies([inputs_valid]):  # the clear message comes first
            mi = information(mixed_radix_ids(columns, radices), int(np.prod(radices)))
            attributes = (
                [information(columns[:, i], radix) for i, radix in enumerate(radices)]
                if per_attribute and len(radices) > 1
                else []
            )
        # Checked inputs can still overflow inside an estimator (e.g. pre-activations near
        # 1e38 in the joint one's softplus sums).
        mi = tf.debugging.check_numerics(
            mi, f"Layer {name}: the mutual-information term is not finite (NaN or inf)"
        )
        # Under XLA the checks cannot raise: a bad batch shows as a NaN MI (hence loss), with
        # no MI gradient, rather than as the MI of the batch with the bad examples left out.
        nan_if_invalid = [
            ops.where(inputs_valid, value, float("nan")) for value in [mi, *attributes]
        ]
        return nan_if_invalid[0], nan_if_invalid[1:], inputs_valid

    def _check_present(self, sensitive: Any, labels: Any) -> None:
        if sensitive is None:
            raise ValueError(
                f"Layer '{self.name}' has mi_estimator="
                f"{self.mi_estimator!r} but received sensitive=None. Pass the sensitive "
                "attribute: `layer(x, sensitive=s)`, or fit a "
                'keras_sqnn.models.SensitiveSequential on {"features": x, "sensitive": s}. '
                "Set mi_estimator=None to train without the regularizer."
            )
        if self.condition_on == "labels" and labels is None:
            raise ValueError(
                f"Layer '{self.name}' has condition_on='labels' but received labels=None. "
                "Pass the class ids: `layer(x, sensitive=s, labels=y)`, or fit a "
                "keras_sqnn.models.SensitiveSequential, which passes its training targets."
            )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()  # type: ignore[misc]
        config.pop("activation", None)
        config.update(
            mi_estimator=estimators.serialize(self.mi_estimator),
            gamma=self.gamma,
            num_groups=list(self.num_groups)
            if isinstance(self.num_groups, tuple)
            else self.num_groups,
            condition_on=self.condition_on,
            num_classes=self.num_classes,
            inference=self.inference,
            sampler=self.sampler,
            seed=self.seed,
        )
        return config

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


def _batch_size(tensor: Any) -> Any:
    """The static batch size when known, else the dynamic one."""
    return tensor.shape[0] if tensor.shape[0] is not None else tf.shape(tensor)[0]


def _radices(num_groups: int | tuple[int, ...]) -> tuple[int, ...]:
    return (num_groups,) if isinstance(num_groups, int) else tuple(num_groups)


def _check_count(value: Any, message: str) -> int:
    """``value`` as an int if it is an integer >= 2; else a TypeError / ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    if value < 2:
        raise ValueError(message)
    return int(value)


def _check_arguments(
    gamma: Any,
    num_groups: Any,
    condition_on: Any,
    num_classes: Any,
    inference: Any,
    sampler: Any,
    seed: Any,
) -> tuple[int, ...]:
    """Validate the new arguments; return ``num_groups`` as a tuple of counts."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not float(gamma) >= 0:
        raise ValueError(f"Expected `gamma` to be a finite float >= 0. Received: gamma={gamma!r}")
    if not math.isfinite(float(gamma)):
        raise ValueError(f"Expected `gamma` to be a finite float >= 0. Received: gamma={gamma!r}")
    groups_message = (
        "Expected `num_groups` to be an integer >= 2, or a tuple of them (one per attribute). "
        f"Received: num_groups={num_groups!r}"
    )
    if isinstance(num_groups, (tuple, list)):
        if not num_groups:
            raise ValueError(groups_message)
        radices = tuple(_check_count(count, groups_message) for count in num_groups)
    else:
        radices = (_check_count(num_groups, groups_message),)
    if condition_on not in CONDITIONS:
        raise ValueError(
            f"Expected `condition_on` to be one of {CONDITIONS}. "
            f"Received: condition_on={condition_on!r}"
        )
    _check_count(
        num_classes,
        f"Expected `num_classes` to be an integer >= 2. Received: num_classes={num_classes!r}",
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
    return radices
