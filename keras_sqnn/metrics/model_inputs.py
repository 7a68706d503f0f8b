"""The inputs a trained model needs, from features and the sensitive attribute S.

:func:`model_inputs` turns features ``x`` and S into what ``model.predict`` takes (a
:class:`~keras_sqnn.models.SensitiveSequential`, or a functional model with a
``"sensitive"`` input), checking S against the ``num_groups`` of the model's stochastic
layers; :func:`stack_layer_inputs` runs a SensitiveSequential up to one of its layers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn.groups import checked_group_ids
from keras_sqnn.layers import stochastic_layers
from keras_sqnn.models import LABELS, SENSITIVE, SensitiveSequential, split_inputs
from keras_sqnn.validation import check_same_length, encode_groups, sensitive_columns

DEFAULT_BATCH_SIZE = 4096
"""Examples per forward pass when computing theta."""


def _input_names(model: keras.Model) -> list[str] | None:
    """The names of a functional model's inputs (dict keys or ``keras.Input`` names), or None."""
    try:
        structure = model.input
    except (AttributeError, ValueError):  # a Sequential or subclassed model
        return None
    if isinstance(structure, dict):
        return list(structure)
    if isinstance(structure, list | tuple):
        return [str(getattr(tensor, "name", "")) for tensor in structure]
    return None


def _num_groups(model: keras.Model) -> int | tuple[int, ...] | None:
    """The ``num_groups`` the layers that check S (those with an MI estimator) accept.

    With one attribute, the smallest count; with several (``num_groups=(g_1, ..., g_k)``),
    the smallest count of each column. None if no layer checks S.

    Raises:
        ValueError: if the layers declare different numbers of attributes.
    """
    declared = [
        (layer.name, layer.num_groups)
        for layer in stochastic_layers(model)
        if getattr(layer, "mi_estimator", None) is not None
    ]
    if not declared:
        return None
    widths = {1 if isinstance(count, int) else len(count) for _, count in declared}
    if len(widths) > 1:
        raise ValueError(
            "Expected the stochastic layers of `model` to take S with the same number of "
            "columns (attributes). Received: layers with num_groups "
            f"{dict(declared)}"
        )
    counts = [count for _, count in declared]
    if isinstance(counts[0], int):
        return min(int(count) for count in counts)
    return tuple(min(column) for column in zip(*counts, strict=True))


def _check_declared_columns(model: keras.Model, s: ArrayLike, name: str) -> None:
    """Check that ``s`` (the argument ``name``) has a column per attribute of the model's layers.

    For layers with several attributes (``num_groups=(g_1, ..., g_k)``) the ids of every
    column must also lie in range, since the figures per attribute follow the columns.
    """
    num_groups = _num_groups(model)
    if num_groups is None:
        return
    width = 1 if isinstance(num_groups, int) else len(num_groups)
    columns = len(sensitive_columns(s, name))
    if columns != width:
        raise ValueError(
            f"Expected `{name}` with {width} column(s), one per attribute of the model's "
            f"stochastic layers (num_groups={num_groups}). Received: {name} with {columns} "
            "column(s) (shape "
            f"{np.shape(s)}); for other groupings, evaluate the predictions with "
            "keras_sqnn.metrics.gpa(y, model.predict(x), sensitive_features=...)"
        )
    if width > 1:
        checked_group_ids(s, num_groups, argument=name)


def _check_same_groups(carried: Any, s: ArrayLike, where: str, name: str) -> None:
    """Check that S inside ``x`` and ``s`` (the argument ``name``) split the examples alike.

    Labels may differ (ids in ``x``, names in ``s``); the partitions must be equal (for
    several columns, the partitions into intersections). Catches y passed where s goes
    when both are binary.
    """
    inside_ids, inside_groups = encode_groups(carried, where, min_groups=1)
    given_ids, given_groups = encode_groups(s, name, min_groups=1)
    check_same_length(**{where: inside_ids, name: given_ids})
    groups_inside, groups_given = inside_groups.size, given_groups.size
    pairs = np.unique(inside_ids * groups_given + given_ids).size
    if not pairs == groups_inside == groups_given:
        inside, given = np.asarray(carried), np.asarray(s)
        raise ValueError(
            f"Expected `{name}` to group the examples as {where} does (are y and {name} "
            f"swapped?). Received: {name} with {groups_given} groups, e.g. "
            f"{given[:6].tolist()}, and {where} with {groups_inside} groups, e.g. "
            f"{inside[:6].tolist()}, that do not match one to one"
        )


def model_inputs(
    model: keras.Model,
    x: Any,
    s: ArrayLike | None = None,
    y: ArrayLike | None = None,
    *,
    name: str = "s",
) -> Any:
    """The inputs ``model.predict`` needs, from features ``x`` and the sensitive attribute.

    * A :class:`~keras_sqnn.models.SensitiveSequential` gets the features alone (its
      predictions never depend on S); ``x`` may be the features, a tuple ``(x, s)`` or a
      dict ``{"features": x, "sensitive": s}``.
    * A functional model with an input named ``"sensitive"`` (a dict key or a
      ``keras.Input`` name) gets S from ``x`` if ``x`` holds it, else from ``s``: features
      ``x`` become ``{<other input>: x, "sensitive": s}`` (or the list of both, in the
      model's order) when the model has two inputs, and a dict ``x`` gets ``"sensitive"``
      added. The S fed to a model whose layers use it is checked on the host: integer ids in
      ``[0, num_groups)`` (integral floats are cast), else a clear error.
    * A functional model with dict inputs that also has a ``"labels"`` input (its layers
      condition on Y, ``condition_on="labels"``) gets ``y`` there, unless ``x`` holds it.
    * Any other model gets ``x`` as it is.

    When ``x`` holds S as well as ``s`` is given, both must split the examples into the
    same groups (this catches y and s swapped when both are binary). Where the model's
    stochastic layers take S, ``s`` must have one column per attribute they declare
    (``(n,)`` for ``num_groups=K``, ``(n, k)`` with column i in ``[0, g_i)`` for
    ``num_groups=(g_1, ..., g_k)``), else a clear error.

    Args:
        model: a Keras model.
        x: features, or the model's full inputs.
        s: the sensitive attribute, ``(n,)``, or ``(n, k)`` for several attributes.
        y: the labels, for a model with a ``"labels"`` input.
        name: what the caller calls ``s``, for error messages (``"sensitive_features"``
            for the metrics).

    Returns:
        What to pass to ``model.predict``.

    Example:
        >>> features = keras.Input((2,), name="features")
        >>> sensitive = keras.Input((), dtype="int32", name="sensitive")
        >>> model = keras.Model({"features": features, "sensitive": sensitive}, features)
        >>> sorted(model_inputs(model, np.zeros((4, 2)), np.zeros(4, int)))
        ['features', 'sensitive']
    """
    if s is not None:
        _check_declared_columns(model, s, name)
    if isinstance(model, SensitiveSequential):
        features, carried = split_inputs(x)
        if carried is not None and s is not None:
            where = "x['sensitive']" if isinstance(x, dict) else "x[1]"
            _check_same_groups(carried, s, where, name)
        return features
    names = _input_names(model)
    if names is None or SENSITIVE not in names:
        return x
    if LABELS in names and isinstance(model.input, dict):
        if not (isinstance(x, dict) and LABELS in x):
            if y is None:
                raise ValueError(
                    f"Expected `y` for a model whose inputs are {names} (its layers condition "
                    "on the labels). Received: y=None"
                )
            if not isinstance(x, dict):
                (features,) = (name for name in names if name not in (SENSITIVE, LABELS))
                x = {features: x}
            x = {**x, LABELS: np.asarray(y)}
    num_groups = _num_groups(model)

    def checked(values: Any, argument: str) -> Any:
        if num_groups is None:  # S is an input, but no layer checks it: pass it as it is
            return np.asarray(values)
        return checked_group_ids(values, num_groups, argument=argument)

    if isinstance(x, dict) and SENSITIVE in x:
        if s is not None:
            _check_same_groups(x[SENSITIVE], s, "x['sensitive']", name)
        return {**x, SENSITIVE: checked(x[SENSITIVE], "x['sensitive']")}
    if s is None:
        raise ValueError(
            f"Expected `{name}` for a model whose inputs are {names}. Received: {name}=None"
        )
    if isinstance(x, dict):
        return {**x, SENSITIVE: checked(s, name)}
    if isinstance(x, list | tuple) or len(names) != 2:
        return x  # already the model's inputs, or which input x is cannot be told
    ids = checked(s, name)
    if isinstance(model.input, dict):
        (other,) = (name for name in names if name != SENSITIVE)
        return {other: x, SENSITIVE: ids}
    return [ids if name == SENSITIVE else x for name in names]


def stack_layer_inputs(
    model: SensitiveSequential,
    features: Any,
    layer: keras.layers.Layer,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[Any]:
    """Batches of what ``layer`` of a SensitiveSequential receives, at inference.

    Runs the layers before ``layer`` on ``features`` with ``training=False`` and without
    S, ``batch_size`` examples at a time (an unbuilt model is built first).
    """
    features = np.asarray(features)
    if not model.built:  # An untrained model: build its weights as a call would.
        model.build((None, *features.shape[1:]))
    stack = model.stack
    before = stack[: next(i for i, each in enumerate(stack) if each is layer)]
    for start in range(0, features.shape[0], batch_size):
        h = keras.ops.convert_to_tensor(features[start : start + batch_size])
        for previous in before:
            h = previous(h, training=False)
        yield h


def feature_arrays(x: Any) -> list[np.ndarray]:
    if isinstance(x, dict):
        values = [value for key, value in x.items() if key != SENSITIVE]
    elif isinstance(x, list | tuple):
        values = list(x)
    else:
        values = [x]
    arrays = [np.asarray(value) for value in values]
    if not arrays or any(array.ndim == 0 or array.shape[0] == 0 for array in arrays):
        raise ValueError(
            "Expected `x` to hold arrays of shape (n, ...) with n > 0. Received: x with "
            f"shapes {[array.shape for array in arrays]}"
        )
    for array in arrays:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(
                "Expected `x` to be finite (no NaN or infinity). Received: x with "
                f"{int(np.sum(~np.isfinite(array)))} non-finite values"
            )
    return arrays


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "feature_arrays",
    "model_inputs",
    "stack_layer_inputs",
]
