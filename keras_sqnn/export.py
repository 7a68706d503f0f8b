"""Save and export models: serving on the features or on raw table rows, atomic saves."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from keras_sqnn.models import FEATURES, SensitiveSequential

if TYPE_CHECKING:
    from keras_sqnn.datasets.preprocessing import TabularPreprocessor


def export_serving(model: keras.Model, filepath: str, *, features: str = FEATURES) -> None:
    """Write a SavedModel whose ``serve`` signature takes the features only.

    Plain ``model.export`` cannot drop an input of a functional model, yet S is never needed
    at inference (stochastic layers ignore it, and ``labels=``, at ``training=False``). This
    runs the model's layers on new inputs (``keras.models.clone_model`` with
    ``input_tensors``), every one but ``features`` declared ``optional=True``, and exports
    an endpoint that calls that graph with the other inputs set to None. The layers and
    weights are the model's own, not copies. The result loads with ``tf.saved_model.load``
    without keras_sqnn installed.

    Args:
        model: a functional ``keras.Model`` (inputs as a dict or a list) or a
            :class:`keras_sqnn.models.SensitiveSequential`.
        filepath: directory to write the SavedModel to.
        features: name of the features input (dict key or input name).

    Example:
        >>> import keras
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> x = keras.Input((4,), name="features")
        >>> s = keras.Input((), dtype="int32", name="sensitive")
        >>> y = keras.layers.Dense(1)(StochasticBinaryDense(3, mi_estimator="bernoulli")(
        ...     x, sensitive=s))
        >>> model = keras.Model({"features": x, "sensitive": s}, y)
        >>> export_serving(model, "/tmp/serving")  # doctest: +SKIP
    """
    if isinstance(model, SensitiveSequential):
        model.export(filepath, verbose=False)
        return
    serving_model, serve, signature = _features_endpoint(model, features)
    archive = keras.export.ExportArchive()
    archive.track(serving_model)
    archive.add_endpoint("serve", serve, input_signature=[signature])
    archive.write_out(filepath, verbose=False)


def with_inference(
    model: keras.Model, inference: str, *, layer: str | keras.layers.Layer | None = None
) -> keras.Model:
    """A copy of ``model`` whose stochastic binary layer outputs ``inference`` at prediction.

    Use it to serve decisions that a certificate covers
    (:func:`keras_sqnn.metrics.certify`): with ``"sample"`` every prediction reads one
    fresh Bernoulli code, with ``"threshold"`` the code ``theta >= 0.5``. The copy is
    rebuilt from the model's config with the same weights; saving it records the mode.

    Args:
        model: a :class:`~keras_sqnn.models.SensitiveSequential`, ``keras.Sequential`` or
            functional model.
        inference: ``"sample"``, ``"threshold"`` or ``"expectation"``.
        layer: the stochastic binary layer or its name; default: the last one.

    Returns:
        The copy.

    Raises:
        ValueError: if the model's output reads anything besides that layer's code (then
            its decisions are not a function of the code, and no certificate covers them).

    Example:
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> model = keras.Sequential([keras.Input((2,)), StochasticBinaryDense(3, name="t")])
        >>> served = with_inference(model, "threshold")
        >>> served.get_layer("t").inference, model.get_layer("t").inference
        ('threshold', 'expectation')
    """
    from keras_sqnn.layers import resolve_stochastic_layer, stochastic_layers
    from keras_sqnn.layers.stochastic_binary import INFERENCE_MODES

    if inference not in INFERENCE_MODES:
        raise ValueError(
            f"Expected `inference` in {INFERENCE_MODES}. Received: inference={inference!r}"
        )
    if layer is None:
        found = stochastic_layers(model, recursive=False)
        if not found:
            raise ValueError(
                "Expected `model` to hold a stochastic binary layer at its top level. "
                f"Received: model {model.name!r} with none"
            )
        layer = found[-1]
    target = resolve_stochastic_layer(model, layer, recursive=False)
    if not isinstance(model, (SensitiveSequential, keras.Sequential)):
        try:
            keras.Model(target.output, model.output)
        except ValueError as error:
            raise ValueError(
                f"Expected the output of `model` to depend only on the code of layer "
                f"{target.name!r}, so that its decisions are a function of the code. Received: "
                f"model {model.name!r} whose output reads other tensors ({error})"
            ) from error
    copy_ = type(model).from_config(model.get_config())
    if isinstance(model, SensitiveSequential):
        shape = model._feature_shape
        if shape is None:
            raise ValueError(
                "The model's input shape is unknown: add a keras.Input first, pass "
                "`input_shape`, or call the model once before copying it."
            )
        for each in (model, copy_):
            if not each.built:
                each.build((None, *shape))
    copy_.get_layer(target.name).inference = inference
    copy_.set_weights(model.get_weights())
    return copy_


def export_tabular_serving(
    model: keras.Model,
    preprocessor: TabularPreprocessor,
    filepath: str,
    *,
    features: str = FEATURES,
    inference_signatures: tuple[str, ...] = (),
) -> None:
    """Write a SavedModel that serves raw table rows, and the encoded features too.

    Two signatures, both loadable with plain ``tf.saved_model.load`` (no keras_sqnn, no
    Keras):

    * ``serve`` (also ``serving_default``): the raw columns by name, each a 1-D tensor
      over the rows; continuous columns ``float64``, categorical ones strings. They go
      through ``preprocessor.as_keras_model()`` (the fitted encoding as Keras layers),
      then the model. ``serve`` takes a dict keyed by the column names; the
      ``serving_default`` signature takes one keyword argument per column, named by
      :func:`signature_name` (``education-num`` becomes ``education_num``).
    * ``serve_features``: the encoded ``float32`` features, as ``preprocessor.transform``
      returns them (what :func:`export_serving` serves).
    * ``serve_<mode>`` for each mode in ``inference_signatures`` (``"sample"``,
      ``"threshold"``): the raw columns, scored by :func:`with_inference` ``(model, mode)``:
      from one fresh sampled code per call, or from the thresholded code, the decisions a
      certificate (:func:`keras_sqnn.metrics.certify`) covers.

    Args:
        model: the classifier trained on ``preprocessor.transform`` output: a
            :class:`keras_sqnn.models.SensitiveSequential` or a functional model (its
            other inputs, e.g. S, are dropped as in :func:`export_serving`).
        preprocessor: the fitted :class:`keras_sqnn.datasets.TabularPreprocessor`.
        filepath: directory to write the SavedModel to.
        features: name of the features input of a functional model.
        inference_signatures: stochastic-layer output modes to serve in signatures of
            their own.

    Example:
        >>> served = tf.saved_model.load("saved_models/adult/serving")  # doctest: +SKIP
        >>> served.serve({"age": tf.constant([39.0], "float64"),
        ...               "workclass": tf.constant(["State-gov"]), ...})  # doctest: +SKIP
    """
    encoder = preprocessor.as_keras_model()
    width = len(preprocessor.get_feature_names_out())
    if isinstance(model, SensitiveSequential):
        serving_model: keras.Model = model
        signature = tf.TensorSpec((None, width), "float32", name=features)
        predict = _call_without_training(model)

    else:
        serving_model, predict, signature = _features_endpoint(model, features)
    columns = {
        name: tf.TensorSpec((None,), tensor.dtype, name=signature_name(name))
        for name, tensor in encoder.input.items()
    }
    arguments = Counter(spec.name for spec in columns.values())
    clashes = sorted(name for name, spec in columns.items() if arguments[spec.name] > 1)
    if clashes:
        raise ValueError(
            "Expected column names that stay distinct as signature arguments (characters "
            f"other than letters and digits become '_'). Received: columns {clashes}"
        )

    def rows_endpoint(score: Any) -> Any:
        def serve(rows: dict[str, Any]) -> Any:
            encoded = encoder({name: tf.expand_dims(rows[name], -1) for name in columns})
            return score(encoded)

        return serve

    archive = keras.export.ExportArchive()
    archive.track(encoder)
    archive.track(serving_model)
    archive.add_endpoint("serve", rows_endpoint(predict), input_signature=[columns])
    archive.add_endpoint("serve_features", predict, input_signature=[signature])
    for mode in inference_signatures:
        served = with_inference(model, mode)
        if isinstance(served, SensitiveSequential):
            score = _call_without_training(served)
        else:
            served, score, _ = _features_endpoint(served, features)
        archive.track(served)
        archive.add_endpoint(f"serve_{mode}", rows_endpoint(score), input_signature=[columns])
    archive.write_out(filepath, verbose=False)


def atomic_save(
    model: keras.Model,
    destination: str | os.PathLike[str],
    *,
    preprocessor: TabularPreprocessor | None = None,
    files: Mapping[str, str] | None = None,
    inference_signatures: tuple[str, ...] = (),
) -> None:
    """Write ``model.keras`` and the SavedModel ``serving/`` into ``destination`` at once.

    With a fitted ``preprocessor``, ``serving/`` is :func:`export_tabular_serving`'s
    (raw columns by name as the default signature, the encoded features as
    ``serve_features``) and ``preprocessor.json`` holds the preprocessor's
    ``get_config()``; without one, ``serving/`` is ``model.export``'s.

    Both are written into a hidden staging folder beside ``destination``
    (``.<name>-*``), which is then renamed into place; a previous export is moved aside
    first and removed after. A crash while writing leaves the previous export (or nothing)
    at ``destination``, never a half-written model; a hard kill may leave the staging
    folder behind, safe to delete.

    Args:
        model: a Keras model (``model.save`` is called, and ``model.export`` without a
            ``preprocessor``).
        destination: the folder to create or replace.
        preprocessor: the fitted ``TabularPreprocessor`` the model's features came from.
        files: further text files to write beside the model, name to content (e.g.
            ``{"metrics.json": ...}``).
        inference_signatures: with a ``preprocessor``, also serve these stochastic-layer
            output modes (see :func:`export_tabular_serving`).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> atomic_save(model, "/tmp/models/adult")  # doctest: +SKIP
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    # mkdtemp makes the folder private (0700); give it the permissions of a plain mkdir, so
    # that a serving process of another user can read the model.
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        model.save(staging / "model.keras")
        if preprocessor is None:
            model.export(str(staging / "serving"), verbose=False)
        else:
            export_tabular_serving(
                model,
                preprocessor,
                str(staging / "serving"),
                inference_signatures=inference_signatures,
            )
            (staging / "preprocessor.json").write_text(
                json.dumps(preprocessor.get_config(), indent=2)
            )
        for name, content in (files or {}).items():
            (staging / name).write_text(content)
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


def signature_name(column: str) -> str:
    """The keyword argument of ``column`` in an exported signature.

    TensorFlow signature arguments must be Python identifiers: characters other than
    letters and digits become ``_``, and a name that does not start with a letter gets an
    ``arg_`` prefix.

    Example:
        >>> signature_name("education-num")
        'education_num'
    """
    swapped = "".join(c if c.isalnum() else "_" for c in column)
    return swapped if swapped[:1].isalpha() else f"arg_{swapped}"


def _features_endpoint(model: keras.Model, features: str) -> tuple[keras.Model, Any, Any]:
    """A clone of a functional model with optional non-feature inputs, its call, its spec."""
    structure = model.input
    names = _input_names(structure)
    if features not in names:
        raise ValueError(
            f"Expected `features` to name one of the model's inputs {sorted(names)}. "
            f"Received: features={features!r}"
        )
    serving_model = _with_optional_inputs(model, keep=names[features])
    spec = names[features]

    def serve(x: Any) -> Any:
        return serving_model(_fill_structure(structure, names, features, x), training=False)

    return serving_model, serve, tf.TensorSpec(spec.shape, spec.dtype, name=features)


def _call_without_training(model: keras.Model) -> Any:
    def call(x: Any) -> Any:
        return model(x, training=False)

    return call


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
    """The graph of ``model`` on new inputs, all of them optional except ``keep``.

    ``keras.models.clone_model`` re-runs the graph on ``input_tensors``; with
    ``clone_function`` returning each layer itself, the result shares the model's layers
    and weights (nothing is copied). It is applied to an uncompiled view of the model's
    graph, so that no compile configuration (optimizer, losses) is cloned with it.
    """

    def new_input(tensor: Any) -> Any:
        return keras.Input(
            batch_shape=tensor.shape,
            dtype=tensor.dtype,
            sparse=tensor.sparse,
            ragged=tensor.ragged,
            name=tensor.name,
            optional=tensor is not keep,
        )

    graph = keras.Model(model.input, model.output, name=model.name)
    return keras.models.clone_model(
        graph,
        input_tensors=keras.tree.map_structure(new_input, model.input),
        clone_function=lambda layer: layer,
    )
