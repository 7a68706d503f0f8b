"""The finder of a model's stochastic binary layers: by type, nested models included, by name."""

from __future__ import annotations

import keras
import pytest

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.layers import (
    StochasticBinaryConv2D,
    StochasticBinaryDense,
    resolve_stochastic_layer,
    stochastic_layers,
)
from keras_sqnn.models import SensitiveSequential


class StochasticBinaryLookalike(keras.layers.Dense):
    """A class named like the package's layers that is not one: never found."""


def _names(layers):
    return [layer.name for layer in layers]


def test_sequential_lists_them_in_order_and_ignores_lookalike_names():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            StochasticBinaryDense(3, name="first"),
            StochasticBinaryLookalike(3, name="lookalike"),
            keras.layers.Dense(3),
            StochasticBinaryDense(2, name="second"),
        ]
    )
    assert _names(stochastic_layers(model)) == ["first", "second"]
    assert _names(stochastic_layers(model, recursive=False)) == ["first", "second"]


def test_functional_model_with_a_convolution_and_a_sensitive_input():
    images = keras.Input((8, 8, 1), name="features")
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    t = StochasticBinaryConv2D(4, 3, mi_estimator="bernoulli", name="conv")(
        images, sensitive=sensitive
    )
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(t))
    model = keras.Model({"features": images, "sensitive": sensitive}, outputs)
    assert stochastic_layers(model) == [model.get_layer("conv")]


def test_sensitive_sequential_from_the_classifier_builder():
    config = SQNNConfig(n_hidden=3, hidden_size=4, hybrid=False, stochastic_position=1)
    model = build_sqnn_classifier(5, config, seed=0)
    found = stochastic_layers(model)
    assert found == model.stack[:3]
    assert found[1].name == "representation"
    assert stochastic_layers(SensitiveSequential(input_shape=(3,))) == []


def test_nested_models_are_searched_depth_first_unless_not_recursive():
    inner = keras.Sequential([keras.Input((4,)), StochasticBinaryDense(3, name="inner_t")])
    wrapped = keras.Sequential([keras.Input((3,)), StochasticBinaryDense(3, name="wrapped_t")])
    deeper = keras.Sequential([keras.Input((3,)), wrapped, keras.layers.Dense(2)])
    inputs = keras.Input((4,))
    hidden = StochasticBinaryDense(4, name="top_t")(inputs)
    outputs = deeper(inner(hidden))
    model = keras.Model(inputs, outputs)
    assert _names(stochastic_layers(model)) == ["top_t", "inner_t", "wrapped_t"]
    assert _names(stochastic_layers(model, recursive=False)) == ["top_t"]
    # A layer used twice is listed once.
    shared = StochasticBinaryDense(2, name="shared")
    twice = keras.Sequential([keras.Input((2,)), shared, shared])
    assert _names(stochastic_layers(twice)) == ["shared"]


def test_resolve_by_name_or_by_layer():
    inner = keras.Sequential([keras.Input((4,)), StochasticBinaryDense(3, name="inner_t")])
    inputs = keras.Input((4,))
    top = StochasticBinaryDense(4, name="top_t")
    model = keras.Model(inputs, inner(top(inputs)))
    assert resolve_stochastic_layer(model, "top_t") is top
    assert resolve_stochastic_layer(model, top) is top
    assert resolve_stochastic_layer(model, "inner_t") is inner.layers[0]
    with pytest.raises(ValueError, match=r"top-level stochastic .*\['top_t'\]"):
        resolve_stochastic_layer(model, "inner_t", recursive=False)


def test_bad_name_or_layer_is_a_clear_error_naming_the_argument():
    model = keras.Sequential([keras.Input((4,)), StochasticBinaryDense(3, name="t")])
    with pytest.raises(
        ValueError,
        match=r"Expected `layer` to be \(or name\) a stochastic binary layer of the model "
        r"\['t'\]\. Received: layer='missing'",
    ):
        resolve_stochastic_layer(model, "missing")
    plain = keras.layers.Dense(2, name="plain")
    with pytest.raises(ValueError, match=r"Received: representation='plain'"):
        resolve_stochastic_layer(model, plain, argument="representation")
