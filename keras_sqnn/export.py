"""Save and export models: serving on the features alone, and atomic replacement on disk."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_sqnn.models import FEATURES, SensitiveSequential


def export_serving(model: keras.Model, filepath: str, *, features: str = FEATURES) -> None:
    """Write a SavedModel whose ``serve`` signature takes the features only.

    Plain ``model.export`` cannot drop an input of a functional model, yet S is never needed
    at inference (stochastic layers ignore it at ``training=False``). This rebuilds the model
    from its config with every input other than ``features`` made optional, copies the
    weights, and exports an endpoint that calls it with the other inputs set to None. The
    result loads with ``tf.saved_model.load`` without keras_sqnn installed.

    Args:
        model: a functional ``keras.Model`` (inputs as a dict or a list) or a
            :class:`keras_sqnn.models.SensitiveSequential`.
        filepath: directory to write the SavedModel to.
        features: name of the features input (dict key or input name).

    Example:
        >>> import keras
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> x = keras.Input((4,), name="features"); s = keras.Input((), dtype="int32")
        >>> y = keras.layers.Dense(1)(StochasticBinaryDense(3, mi_estimator="bernoulli")(
        ...     x, sensitive=s))
        >>> model = keras.Model({"features": x, "sensitive": s}, y)
        >>> export_serving(model, "/tmp/serving")  # doctest: +SKIP
    """
    if isinstance(model, SensitiveSequential):
        model.export(filepath, verbose=False)
        return
    structure = model.input
    names = _input_names(structure)
    if features not in names:
        raise ValueError(
            f"Expected `features` to name one of the model's inputs {sorted(names)}. "
            f"Received: features={features!r}"
        )
    serving_model = _with_optional_inputs(model, keep=names[features])
    spec = names[features]
    signature = [tf.TensorSpec(spec.shape, spec.dtype, name=features)]

    def serve(x: Any) -> Any:
        return serving_model(_fill_structure(structure, names, features, x), training=False)

    archive = keras.export.ExportArchive()
    archive.track(serving_model)
    archive.add_endpoint("serve", serve, input_signature=signature)
    archive.write_out(filepath, verbose=False)


def atomic_save(model: keras.Model, destination: str | os.PathLike[str]) -> None:
    """Write ``model.keras`` and the SavedModel ``serving/`` into ``destination`` at once.

    Both are written into a hidden staging folder beside ``destination``
    (``.<name>-*``), which is then renamed into place; a previous export is moved aside
    first and removed after. A crash while writing leaves the previous export (or nothing)
    at ``destination``, never a half-written model; a hard kill may leave the staging
    folder behind, safe to delete.

    Args:
        model: a Keras model (``model.save`` and ``model.export`` are called).
        destination: the folder to create or replace.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> atomic_save(model, "/tmp/models/adult")  # doctest: +SKIP
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    try:
        model.save(staging / "model.keras")
        model.export(str(staging / "serving"), verbose=False)
        previous = None
        if destination.exists():
            previous = destination.with_name(f".{destination.name}-previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(destination, previous)
        os.replace(staging, destination)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _input_names(structure: Any) -> dict[str, Any]:
    if isinstance(structure, dict):
        return dict(structure)
    if isinstance(structure, (list, tuple)):
        return {tensor.name: tensor for tensor in structure}
    return {structure.name: structure}


def _fill_structure(structure: Any, names: dict[str, Any], features: str, x: Any) -> Any:
    if isinstance(structure, dict):
        return {key: (x if key == features else None) for key in structure}
    if isinstance(structure, (list, tuple)):
        return [x if tensor is names[features] else None for tensor in structure]
    return x


def _with_optional_inputs(model: keras.Model, keep: Any) -> keras.Model:
    config = copy.deepcopy(model.get_config())
    keep_layer = keep._keras_history[0].name
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer" and layer["config"]["name"] != keep_layer:
            layer["config"]["optional"] = True
    clone = keras.Model.from_config(config)
    clone.set_weights(model.get_weights())
    return clone
