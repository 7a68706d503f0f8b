"""Stochastic binary layers."""

from keras_sqnn.layers.discovery import resolve_stochastic_layer, stochastic_layers
from keras_sqnn.layers.scalar_mean import ScalarMean
from keras_sqnn.layers.stochastic_binary import StochasticBinaryMixin
from keras_sqnn.layers.stochastic_binary_conv2d import StochasticBinaryConv2D
from keras_sqnn.layers.stochastic_binary_dense import StochasticBinaryDense

__all__ = [
    "ScalarMean",
    "StochasticBinaryConv2D",
    "StochasticBinaryDense",
    "StochasticBinaryMixin",
    "resolve_stochastic_layer",
    "stochastic_layers",
]
