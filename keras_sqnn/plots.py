"""Moved to :mod:`keras_sqnn.lab.plots`; this old path goes in the next release."""

from keras_sqnn.lab.moved import alias

alias(__name__, "keras_sqnn.lab.plots")
