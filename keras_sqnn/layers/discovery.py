"""Find the stochastic binary layers of a model: by type, in nested models too, or by name."""

from __future__ import annotations

import keras

from keras_sqnn.layers.stochastic_binary import StochasticBinaryMixin


def _sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """The layers a model (anything with a ``layers`` list) holds; none for a plain layer."""
    inner = getattr(layer, "layers", None)
    if not isinstance(inner, list | tuple):
        return []
    return [each for each in inner if isinstance(each, keras.layers.Layer)]


def stochastic_layers(
    model: keras.layers.Layer, *, recursive: bool = True
) -> list[keras.layers.Layer]:
    """The stochastic binary layers of a model, in the order the model lists its layers.

    A layer counts when it is an instance of
    :class:`~keras_sqnn.layers.StochasticBinaryMixin`, whatever its class is called.

    Args:
        model: a Keras model (functional, ``Sequential``, subclassed, or a
            :class:`~keras_sqnn.models.SensitiveSequential`).
        recursive: also search nested models (any layer with a ``layers`` list), depth
            first, in place of the nested model; False looks at ``model.layers`` only.

    Returns:
        The layers, each once.

    Example:
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> inner = keras.Sequential([keras.Input((3,)), StochasticBinaryDense(2, name="t")])
        >>> outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])
        >>> [layer.name for layer in stochastic_layers(outer)]
        ['t']
        >>> stochastic_layers(outer, recursive=False)
        []
    """
    found: list[keras.layers.Layer] = []
    seen: set[int] = set()

    def visit(parent: keras.layers.Layer) -> None:
        for layer in _sublayers(parent):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if isinstance(layer, StochasticBinaryMixin):
                found.append(layer)
            elif recursive:
                visit(layer)

    visit(model)
    return found


def resolve_stochastic_layer(
    model: keras.layers.Layer,
    layer: str | keras.layers.Layer,
    *,
    recursive: bool = True,
    argument: str = "layer",
) -> keras.layers.Layer:
    """The stochastic binary layer of ``model`` that ``layer`` is, or names.

    Args:
        model: the model, as for :func:`stochastic_layers`.
        layer: one of the model's stochastic binary layers, or its name.
        recursive: also accept layers of nested models.
        argument: the caller's name for ``layer``, used in the error message.

    Returns:
        The layer.

    Raises:
        ValueError: if ``layer`` is not (and does not name) one of
            ``stochastic_layers(model, recursive=recursive)``; the message lists them.

    Example:
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> model = keras.Sequential([keras.Input((3,)), StochasticBinaryDense(2, name="t")])
        >>> resolve_stochastic_layer(model, "t").name
        't'
        >>> resolve_stochastic_layer(model, "u")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected `layer` to be (or name) a stochastic binary layer ... layer='u'
    """
    candidates = stochastic_layers(model, recursive=recursive)
    for candidate in candidates:
        if candidate is layer or candidate.name == layer:
            return candidate
    names = [candidate.name for candidate in candidates]
    shown = layer if isinstance(layer, str) else getattr(layer, "name", layer)
    where = "" if recursive else "top-level "
    raise ValueError(
        f"Expected `{argument}` to be (or name) a {where}stochastic binary layer of the model "
        f"{names}. Received: {argument}={shown!r}"
    )


__all__ = ["resolve_stochastic_layer", "stochastic_layers"]
