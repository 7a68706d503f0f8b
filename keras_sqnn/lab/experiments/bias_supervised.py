"""Baselines that use the bias labels in training: group reweighting and Group DRO.

Both see the same (digit, colour) labels as the conditional SQNN, so they are its fair
comparison on Biased-MNIST. The groups are the 100 (digit, colour) pairs.

- **Reweighting**: each training image weighted by the inverse frequency of its group,
  ``w = n / (G * n_group)`` over the G non-empty groups, capped at ``cap`` times the
  weight of a group of average size, then rescaled to mean 1.
- **Group DRO** (Sagawa, Koh, Hashimoto and Liang, *Distributionally Robust Neural
  Networks*, ICLR 2020, Algorithm 1): the loss is ``sum_g q_g * loss_g`` over the groups
  of the batch, and after each step ``q_g <- q_g * exp(step_size * loss_g)`` for the groups
  present, renormalised.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf


def group_ids(digits: Any, colours: Any, num_colours: int = 10) -> Any:
    """The (digit, colour) group of each image: ``digit * num_colours + colour``."""
    return digits * num_colours + colours


def inverse_frequency_weights(groups: np.ndarray, cap: float) -> np.ndarray:
    """Per-example weights ``n / (G * n_group)``, capped at ``cap``, with mean 1.

    Example:
        >>> inverse_frequency_weights(np.array([0, 0, 0, 1]), cap=100.0).round(3).tolist()
        [0.667, 0.667, 0.667, 2.0]
        >>> inverse_frequency_weights(np.array([0, 0, 0, 1]), cap=1.2).round(3).tolist()
        [0.833, 0.833, 0.833, 1.5]
    """
    if not cap > 0:
        raise ValueError(f"Expected `cap` > 0. Received: cap={cap!r}")
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weights = len(groups) / (len(counts) * counts[inverse].astype(np.float64))
    weights = np.minimum(weights, cap)
    return weights / weights.mean()


@keras.saving.register_keras_serializable(package="keras_sqnn")
class GroupDROModel(keras.Model):
    """Wraps a classifier so that ``fit`` minimises the Group DRO objective.

    The batches are ``(inputs, digits)`` with ``inputs["sensitive"]`` the colour; the
    wrapped network's own losses (weight decay) are added. ``q``, the group weights, is a
    non-trainable variable saved with the model.

    Args:
        network: the classifier (softmax outputs).
        num_groups: the number of (digit, colour) groups.
        step_size: Group DRO's ``eta``.
    """

    def __init__(
        self, network: keras.Model, num_groups: int = 100, step_size: float = 0.01, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not step_size > 0:
            raise ValueError(f"Expected `step_size` > 0. Received: step_size={step_size!r}")
        self.network = network
        self.num_groups = int(num_groups)
        self.step_size = float(step_size)
        self.q = self.add_weight(
            shape=(self.num_groups,),
            initializer=keras.initializers.Constant(1.0 / self.num_groups),
            trainable=False,
            name="group_weights",
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        # Every weight exists now (the network's and q): built, as
        # keras.callbacks.BackupAndRestore requires before fit.
        self.built = True

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker, self.accuracy_tracker]

    def call(self, inputs: Any, training: Any = None) -> Any:
        return self.network(inputs, training=training)

    def train_step(self, data: Any) -> dict[str, Any]:
        inputs, digits = data
        digits = tf.cast(digits, tf.int32)
        groups = group_ids(digits, tf.cast(inputs["sensitive"], tf.int32))
        ones = tf.ones_like(digits, tf.float32)
        counts = tf.math.unsorted_segment_sum(ones, groups, self.num_groups)
        present = tf.cast(counts > 0, tf.float32)
        with tf.GradientTape() as tape:
            probabilities = self(inputs, training=True)
            losses = keras.losses.sparse_categorical_crossentropy(digits, probabilities)
            sums = tf.math.unsorted_segment_sum(losses, groups, self.num_groups)
            group_losses = sums / tf.maximum(counts, 1.0)
            q = self.q * tf.exp(self.step_size * tf.stop_gradient(group_losses) * present)
            q = q / tf.reduce_sum(q)
            loss = tf.reduce_sum(q * group_losses) + tf.add_n([0.0, *self.network.losses])
        variables = self.network.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        self.q.assign(q)
        self.loss_tracker.update_state(tf.reduce_mean(losses))
        self.accuracy_tracker.update_state(digits, probabilities)
        return {metric.name: metric.result() for metric in self.metrics}

    def test_step(self, data: Any) -> dict[str, Any]:
        inputs, digits = data
        probabilities = self(inputs, training=False)
        losses = keras.losses.sparse_categorical_crossentropy(digits, probabilities)
        self.loss_tracker.update_state(tf.reduce_mean(losses))
        self.accuracy_tracker.update_state(digits, probabilities)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "num_groups": self.num_groups,
            "step_size": self.step_size,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GroupDROModel:
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)
