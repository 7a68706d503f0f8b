"""What the adversarial and VFAE baseline models share."""

from __future__ import annotations

from typing import Any

import keras

from keras_sqnn.models import FEATURES


class FeatureClassifierModel(keras.Model):
    """A model that maps ``{"features", "sensitive"}`` (or features alone) to P(y = 1).

    Subclasses set ``input_dim`` and ``seed`` and list their other constructor arguments in
    ``get_config`` through :meth:`_config`.
    """

    input_dim: int
    seed: int | None

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        if isinstance(input_shape, dict):
            input_shape = input_shape[FEATURES]
        return (input_shape[0], 1)

    def _config(self, **arguments: Any) -> dict[str, Any]:
        """The config: name, trainability, ``input_dim``, ``arguments`` and ``seed``."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_dim": self.input_dim,
            **arguments,
            "seed": self.seed,
        }
