"""A Sequential-style model that routes the sensitive attribute to the layers that take it."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_sqnn.api_export import keras_sqnn_export
from keras_sqnn.groups import checked_group_ids
from keras_sqnn.layers.input_checks import check_finite

FEATURES = "features"
SENSITIVE = "sensitive"
LABELS = "labels"


def split_inputs(inputs: Any) -> tuple[Any, Any]:
    """``(features, sensitive or None)`` from features, ``(features, sensitive)`` or a dict.

    The dict form is ``{"features": x, "sensitive": s}`` (``"sensitive"`` optional; a
    ``"labels"`` entry is what a ``SensitiveSequential`` routes to layers conditioning on Y).
    """
    if isinstance(inputs, dict):
        unknown = set(inputs) - {FEATURES, SENSITIVE, LABELS}
        if FEATURES not in inputs or unknown:
            raise ValueError(
                f"Expected inputs as features, a tuple (features, sensitive) or a dict with keys "
                f'"{FEATURES}" and optionally "{SENSITIVE}". Received: keys={sorted(inputs)}'
            )
        return inputs[FEATURES], inputs.get(SENSITIVE)
    if isinstance(inputs, (tuple, list)):
        if len(inputs) != 2:
            raise ValueError(
                "Expected inputs as features, a tuple (features, sensitive) or a dict with keys "
                f'"{FEATURES}" and optionally "{SENSITIVE}". Received: a {type(inputs).__name__} '
                f"of {len(inputs)} items"
            )
        return inputs[0], inputs[1]
    return inputs, None


def _features_shape(input_shape: Any) -> tuple[Any, ...]:
    """The features' shape from the shape of any input form :func:`split_inputs` takes."""
    if isinstance(input_shape, dict):
        return tuple(split_inputs(input_shape)[0])
    if isinstance(input_shape, (tuple, list)) and isinstance(input_shape[0], (tuple, list)):
        return tuple(input_shape[0])
    return tuple(input_shape)


def _with_checked_groups(inputs: Any, num_groups: int | tuple[int, ...] | None) -> Any:
    """``inputs`` with NumPy / pandas group ids checked on the host (and floats cast).

    Tensors and datasets pass unchanged: the layers check those inside the step.
    """
    if num_groups is None or not isinstance(inputs, (dict, tuple, list)):
        return inputs
    features, sensitive = split_inputs(inputs)
    if (
        sensitive is None
        or not isinstance(sensitive, (np.ndarray, list))
        and not hasattr(sensitive, "to_numpy")
    ):
        return inputs
    ids = checked_group_ids(
        sensitive.to_numpy() if hasattr(sensitive, "to_numpy") else sensitive, num_groups
    )
    return {FEATURES: features, SENSITIVE: ids}


def _takes(layer: keras.layers.Layer, argument: str) -> bool:
    return argument in inspect.signature(layer.call).parameters


def _takes_sensitive(layer: keras.layers.Layer) -> bool:
    return _takes(layer, SENSITIVE)


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

    Inputs: features alone, a tuple ``(features, sensitive)`` or a dict
    ``{"features": x, "sensitive": s}``. ``fit`` and ``evaluate`` check NumPy / pandas group
    ids on the host before the first step (integer ids in ``[0, num_groups)``; floats only if
    integral, then cast to int32; strings point to :func:`keras_sqnn.encode_groups`), and
    the features' shape against the model's input shape, as ``keras.Sequential`` does.
    ``evaluate`` without S logs no MI. Layers with ``condition_on="labels"`` receive the
    training targets as their ``labels`` (``fit(x_dict, y)`` needs nothing more).

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
        input_shape = _features_shape(input_shape)
        self._check_feature_shape(input_shape)
        if self._feature_shape is None:
            self._set_input(input_shape[1:], self._feature_dtype)
        x = keras.KerasTensor((None, *input_shape[1:]), dtype=self._feature_dtype)
        for layer in self._layer_stack:
            x = layer(x)
        self.built = True

    def _check_feature_shape(self, shape: tuple[Any, ...]) -> None:
        expected = self._feature_shape
        if expected is None:
            return
        if len(shape) != len(expected) + 1 or any(
            want is not None and got is not None and want != got
            for want, got in zip(expected, shape[1:], strict=False)
        ):
            raise ValueError(
                f"Input of {type(self).__name__} '{self.name}' is incompatible with its input "
                f"shape: expected features of shape {(None, *expected)}. Received: features "
                f"of shape {tuple(shape)}"
            )

    def call(self, inputs: Any, training: Any = None) -> Any:
        features, sensitive = split_inputs(inputs)
        labels = inputs.get(LABELS) if isinstance(inputs, dict) else None
        self._check_feature_shape(tuple(features.shape))
        x = features
        if training and x.dtype.is_floating:
            # One reduction per batch: a NaN or inf feature stops the step (before any weight
            # changes) even where a layer would hide it from the regularized one.
            with tf.control_dependencies([check_finite(x, layer_name=self.name)]):
                x = tf.identity(x)
        for layer in self._layer_stack:
            arguments = {}
            if sensitive is not None and _takes_sensitive(layer):
                arguments[SENSITIVE] = sensitive
                if labels is not None and getattr(layer, "condition_on", None) == "labels":
                    arguments[LABELS] = labels
            x = layer(x, training=training, **arguments)
        return x

    def _with_labels(self, data: Any) -> Any:
        """``data`` with the targets routed to the layers that condition on the labels."""
        if not any(getattr(layer, "condition_on", None) == "labels" for layer in self._layer_stack):
            return data
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if y is None or not isinstance(x, (dict, tuple, list)):
            return data
        features, sensitive = split_inputs(x)
        if sensitive is None:
            return data
        x = {FEATURES: features, SENSITIVE: sensitive, LABELS: y}
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def train_step(self, data: Any) -> Any:
        return super().train_step(self._with_labels(data))

    def _warn_on_two_gammas(self) -> None:
        """Warn when a ``TradeoffLoss`` and a regularized layer disagree on gamma.

        The paper's objective ``gamma * MI + (1 - gamma) * task loss`` is a layer with
        ``gamma`` and ``loss=TradeoffLoss(task_loss, gamma)`` with the same value. (Checked
        at ``fit``: overriding ``compile`` would stop Keras from recompiling a loaded model.)
        """
        loss_gamma = getattr(getattr(self, "loss", None), "gamma", None)
        if loss_gamma is None:
            return
        for layer in self._layer_stack:
            if getattr(layer, "mi_estimator", None) is not None and layer.gamma != loss_gamma:
                warnings.warn(
                    f"The loss weights the task by 1 - gamma with gamma={loss_gamma}, but layer "
                    f"'{layer.name}' weights its MI with gamma={layer.gamma}: the objective is "
                    "not the paper's gamma * MI + (1 - gamma) * task loss. Give both the same "
                    "gamma.",
                    stacklevel=3,
                )

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.fit``, with host-side checks of NumPy / pandas group ids first."""
        self._warn_on_two_gammas()
        x = _with_checked_groups(x, self._num_groups())
        y = self._checked_labels(y)
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and len(validation) >= 2:
            kwargs["validation_data"] = (
                _with_checked_groups(validation[0], self._num_groups()),
                *validation[1:],
            )
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.evaluate``, with host-side checks of NumPy / pandas group ids first."""
        x = _with_checked_groups(x, self._num_groups())
        return super().evaluate(x, self._checked_labels(y), *args, **kwargs)

    def _checked_labels(self, y: Any) -> Any:
        """NumPy / pandas targets checked on the host when a layer conditions on them."""
        classes = [
            layer.num_classes
            for layer in self._layer_stack
            if getattr(layer, "condition_on", None) == "labels"
        ]
        if not classes or not (isinstance(y, (np.ndarray, list)) or hasattr(y, "to_numpy")):
            return y
        values = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
        checked_group_ids(values, min(classes), argument="labels")
        return y

    def test_step(self, data: Any) -> Any:
        logs = super().test_step(self._with_labels(data))
        inputs = data[0] if isinstance(data, tuple) else data
        if split_inputs(inputs)[1] is None:
            # Without S no layer measured an MI: leave the trackers' zeros out of the logs.
            for layer in self._layer_stack:
                trackers = [getattr(layer, "mi_tracker", None)]
                trackers += getattr(layer, "attribute_trackers", [])
                for tracker in trackers:
                    if tracker is not None:
                        logs.pop(tracker.name, None)
        return logs

    def _num_groups(self) -> int | tuple[int, ...] | None:
        """What the host checks S against: the smallest ``num_groups`` of the layers that take
        S, or their common tuple for several attributes (None if there is nothing to check)."""
        counts = [
            layer.num_groups
            for layer in self._layer_stack
            if _takes_sensitive(layer) and getattr(layer, "mi_estimator", None) is not None
        ]
        if counts and all(isinstance(count, int) for count in counts):
            return min(counts)
        if counts and all(count == counts[0] for count in counts):
            return counts[0]
        return None  # layers that disagree check their own S in the step

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = _features_shape(input_shape)
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
