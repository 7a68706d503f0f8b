"""A Sequential-style model that routes the sensitive attribute to the layers that take it."""

from __future__ import annotations

import inspect
from typing import Any

import keras
import tensorflow as tf

from keras_sqnn.api_export import keras_sqnn_export

FEATURES = "features"
SENSITIVE = "sensitive"


def split_inputs(inputs: Any) -> tuple[Any, Any]:
    """``(features, sensitive or None)`` from a features tensor or a dict of both."""
    if isinstance(inputs, dict):
        unknown = set(inputs) - {FEATURES, SENSITIVE}
        if FEATURES not in inputs or unknown:
            raise ValueError(
                f'Expected inputs as a features tensor or a dict with keys "{FEATURES}" '
                f'and optionally "{SENSITIVE}". Received: keys={sorted(inputs)}'
            )
        return inputs[FEATURES], inputs.get(SENSITIVE)
    return inputs, None


def _takes_sensitive(layer: keras.layers.Layer) -> bool:
    return SENSITIVE in inspect.signature(layer.call).parameters


@keras_sqnn_export
class SensitiveSequential(keras.Model):
    """``keras.Sequential`` with ``add()``, where layers may also receive S.

    Plain ``keras.Sequential`` passes one tensor from layer to layer, so a stochastic layer
    with an MI regularizer never sees the sensitive attribute. This model accepts either a
    features tensor or a dict ``{"features": x, "sensitive": s}``; it forwards
    ``sensitive=s`` to every layer whose ``call`` takes a ``sensitive`` argument and calls
    the others on the features alone. Fit it with S in the data and serve it with the
    features only: ``model.export(path)`` writes a SavedModel whose signature takes the
    features (S is never needed at inference).

    Args:
        layers: optional list of layers (a ``keras.Input`` may come first).
        input_shape: shape of one example's features, without the batch axis; same as
            adding ``keras.Input(input_shape)`` first.
        input_dtype: dtype of the features.
        name: model name.

    Example:
        >>> import keras, numpy as np
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> from keras_sqnn.models import SensitiveSequential
        >>> model = SensitiveSequential()
        >>> model.add(keras.Input((20,)))
        >>> model.add(keras.layers.Dense(32, activation="relu"))
        >>> model.add(StochasticBinaryDense(8, mi_estimator="bernoulli", gamma=0.3, seed=1))
        >>> model.add(keras.layers.Dense(1, activation="sigmoid"))
        >>> model.compile("adam", "binary_crossentropy")
        >>> x = np.random.rand(64, 20).astype("float32"); s = np.arange(64) % 2
        >>> history = model.fit({"features": x, "sensitive": s}, s, epochs=1, verbose=0)
    """

    def __init__(
        self,
        layers: list[Any] | None = None,
        input_shape: tuple[int, ...] | None = None,
        input_dtype: str = "float32",
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name, trainable=trainable)
        self._layer_stack: list[keras.layers.Layer] = []
        self._feature_shape: tuple[int, ...] | None = None
        self._feature_dtype = input_dtype
        if input_shape is not None:
            self._set_input(tuple(input_shape), input_dtype)
        for layer in layers or []:
            self.add(layer)

    @property
    def stack(self) -> list[keras.layers.Layer]:
        """The layers in the order they are applied."""
        return list(self._layer_stack)

    def add(self, layer: Any) -> None:
        """Append a layer, or set the input with a ``keras.Input`` (first only)."""
        if isinstance(layer, keras.KerasTensor):
            if self._layer_stack:
                raise ValueError(
                    "A keras.Input can only be added first. Received: "
                    f"layer={layer!r} after {len(self._layer_stack)} layers"
                )
            self._set_input(tuple(layer.shape[1:]), layer.dtype)
            return
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"Expected a keras layer or a keras.Input. Received: layer={layer!r} "
                f"of type {type(layer).__name__}"
            )
        if self.built:
            raise ValueError(
                "Cannot add layers to a SensitiveSequential that is already built (trained or "
                f"called). Build a new model instead. Received: layer={layer.name!r}"
            )
        self._layer_stack.append(layer)

    def _set_input(self, shape: tuple[int, ...], dtype: str) -> None:
        self._feature_shape = tuple(int(d) if d is not None else None for d in shape)
        self._feature_dtype = dtype

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, dict):
            input_shape = input_shape[FEATURES]
        input_shape = tuple(input_shape)
        if self._feature_shape is None:
            self._set_input(input_shape[1:], self._feature_dtype)
        x = keras.KerasTensor((None, *input_shape[1:]), dtype=self._feature_dtype)
        for layer in self._layer_stack:
            x = layer(x)
        self.built = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        features, sensitive = split_inputs(inputs)
        x = features
        for layer in self._layer_stack:
            if sensitive is not None and _takes_sensitive(layer):
                x = layer(x, sensitive=sensitive, training=training)
            else:
                x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, dict):
            input_shape = input_shape[FEATURES]
        shape = tuple(input_shape)
        for layer in self._layer_stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def export(
        self,
        filepath: str,
        format: str = "tf_saved_model",
        verbose: bool | None = None,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Export for serving; the default signature takes the features only."""
        if input_signature is None:
            if self._feature_shape is None:
                raise ValueError(
                    "The model's input shape is unknown: add a keras.Input first, pass "
                    "`input_shape`, or call the model once before exporting."
                )
            if not self.built:
                self.build((None, *self._feature_shape))
            input_signature = [
                tf.TensorSpec((None, *self._feature_shape), self._feature_dtype, name=FEATURES)
            ]
        return super().export(
            filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_shape": self._feature_shape,
            "input_dtype": self._feature_dtype,
            "layers": [keras.saving.serialize_keras_object(layer) for layer in self._layer_stack],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> SensitiveSequential:
        config = dict(config)
        layers = [
            keras.saving.deserialize_keras_object(layer, custom_objects=custom_objects)
            for layer in config.pop("layers")
        ]
        return cls(layers=layers, **config)
