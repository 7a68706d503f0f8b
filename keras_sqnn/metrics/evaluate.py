"""One call that evaluates a trained Keras binary classifier for accuracy and fairness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn.metrics.discrimination import area_under_discrimination_curve
from keras_sqnn.metrics.fairness import auc, group_pairwise_accuracy_difference, worst_group_pair
from keras_sqnn.metrics.model_inputs import model_inputs, stack_layer_inputs
from keras_sqnn.metrics.probes import representation_probe
from keras_sqnn.models import SensitiveSequential, split_inputs
from keras_sqnn.validation import (
    check_binary_labels,
    check_same_length,
    check_scores,
    encode_groups,
    resolve_sensitive,
    sensitive_columns,
)

if TYPE_CHECKING:
    import keras
    import pandas as pd

PROBE_KEYS = ("adrg", "probe_accuracy", "majority_ratio", "probe_auc_s", "probe_auc_y")
"""Keys of `evaluate_fairness`'s result that come from the representation probe."""


def find_representation_layer(model: keras.Model) -> keras.layers.Layer | None:
    """The last stochastically quantized layer of `model`, or None if it has none.

    Looks at the top-level layers of `model` (`model.layers`, not inside nested models)
    for instances of `keras_sqnn.layers.StochasticBinaryMixin` (see
    `keras_sqnn.layers.stochastic_layers`), and returns the last one: the paper probes the
    stochastically quantized penultimate layer.

    Args:
        model: a Keras model.

    Returns:
        The layer, or None.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> find_representation_layer(model) is None
    True
    """
    from keras_sqnn.layers import stochastic_layers

    found = stochastic_layers(model, recursive=False)
    return found[-1] if found else None


def _named_layer(model: keras.Model, layer: str | keras.layers.Layer) -> keras.layers.Layer:
    """`layer` itself, or the layer of `model` it names (any layer: not only a stochastic one)."""
    if isinstance(layer, str):
        try:
            return model.get_layer(layer)
        except ValueError as error:
            names = [each.name for each in model.layers]
            raise ValueError(
                f"Expected `representation_layer` to name a layer of the model {names}. "
                f"Received: representation_layer={layer!r}"
            ) from error
    return layer


def _submodel_outputs(model: keras.Model, x: Any, layer: keras.layers.Layer) -> Any:
    """Predictions of ``keras.Model(model's inputs, layer.output)`` on ``x``."""
    import keras

    try:
        # A functional model's `input` keeps the structure of its inputs (a dict, a list);
        # a Sequential model only has the list `inputs`.
        inputs = model.inputs if isinstance(model, keras.Sequential) else model.input
        submodel = keras.Model(inputs, layer.output)
    except (AttributeError, ValueError) as error:
        raise ValueError(
            "Expected `representation_layer` to be a top-level layer of a functional or "
            "Sequential model, called once, so that a sub-model from the model's inputs to its "
            f"output can be built. Received: representation_layer={layer.name!r} "
            f"({error})"
        ) from error
    return submodel.predict(x, verbose=0)


def extract_representation(
    model: keras.Model, x: Any, layer: str | keras.layers.Layer
) -> np.ndarray:
    """Outputs of one layer of a functional, Sequential or SensitiveSequential model, at inference.

    Builds `keras.Model(model.input, layer.output)` (`model.inputs` for a Sequential
    model) and predicts on `x`, which is passed as
    to `model.predict` (an array, a dict or list of arrays for multi-input models, ...).
    For a `keras_sqnn.models.SensitiveSequential`, runs its layers up to `layer` on the
    features of `x` (features, `(x, s)` or `{"features": x, "sensitive": s}`).
    Inputs of `model` that the layer does not depend on, such as a sensitive-attribute
    input used only after the layer, are accepted and ignored. The layer runs with
    `training=False`; for a stochastic binary layer in `"expectation"` mode the returned
    representation is a binary code sampled from its theta, the random variable T whose
    information about S the layer constrains.

    Args:
        model: a functional, Sequential or SensitiveSequential Keras model.
        x: the model's input data.
        layer: the layer, or its name.

    Returns:
        The layer's outputs as a NumPy array of shape `(n, ...)`.

    Example:

    >>> import keras
    >>> inputs = keras.Input((3,))
    >>> hidden = keras.layers.Dense(4, name="rep")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    >>> extract_representation(model, np.zeros((2, 3)), "rep").shape
    (2, 4)
    """
    import keras

    resolved = _named_layer(model, layer)
    if isinstance(model, SensitiveSequential):
        batches = stack_layer_inputs(model, split_inputs(x)[0], resolved)
        outputs = np.concatenate(
            [keras.ops.convert_to_numpy(resolved(h, training=False)) for h in batches]
        )
    else:
        outputs = _submodel_outputs(model, x, resolved)
    if isinstance(outputs, list | tuple | dict):
        raise ValueError(
            "Expected `representation_layer` to have a single output tensor. "
            f"Received: representation_layer={resolved.name!r} with {len(outputs)} outputs"
        )
    from keras_sqnn.layers import StochasticBinaryMixin

    if isinstance(resolved, StochasticBinaryMixin) and resolved.inference == "expectation":
        # The representation of a stochastic layer is its binary code T, not theta: a probe
        # on theta could read S from tiny differences (0.5 +- eps) that no sample carries.
        outputs = keras.ops.convert_to_numpy(resolved.sample(outputs))
    return np.asarray(outputs)


def predict_scores(model: keras.Model, x: Any, *, batch_size: int | None = None) -> np.ndarray:
    """``model.predict(x)`` as a 1-D array of probabilities, or a clear error.

    Args:
        model: a Keras binary classifier with one sigmoid output.
        x: what ``model.predict`` takes.
        batch_size: examples per forward pass (Keras' default if None).

    Returns:
        The scores, float64 of shape ``(n,)``.
    """
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(outputs, list | tuple | dict):
        raise ValueError(
            "Expected `model` to have a single output (a binary classifier). "
            f"Received: model with {len(outputs)} outputs"
        )
    outputs = np.asarray(outputs)
    if not (outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1)):
        raise ValueError(
            "Expected `model` to output one score per example, of shape (n,) or (n, 1). "
            f"Received: model outputs of shape {outputs.shape}"
        )
    scores = check_scores(outputs, "y_score (the model's predictions)")
    low, high = float(scores.min()), float(scores.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            "Expected `model` to output probabilities in [0, 1]; if it outputs logits, add "
            "a sigmoid activation to its last layer (or wrap it in a model that does). "
            f"Received: model predictions in [{low}, {high}]"
        )
    return scores


@overload
def evaluate_fairness(
    model: keras.Model,
    x: Any,
    y: ArrayLike,
    s: ArrayLike | None = ...,
    *,
    sensitive_features: ArrayLike | None = ...,
    representation_layer: str | keras.layers.Layer | None = ...,
    n_estimators: int = ...,
    threshold: float = ...,
    test_size: float | int = ...,
    random_state: int | None = ...,
    n_jobs: int | None = ...,
    as_frame: Literal[False] = ...,
) -> dict[str, Any]: ...


@overload
def evaluate_fairness(
    model: keras.Model,
    x: Any,
    y: ArrayLike,
    s: ArrayLike | None = ...,
    *,
    sensitive_features: ArrayLike | None = ...,
    representation_layer: str | keras.layers.Layer | None = ...,
    n_estimators: int = ...,
    threshold: float = ...,
    test_size: float | int = ...,
    random_state: int | None = ...,
    n_jobs: int | None = ...,
    as_frame: Literal[True],
) -> pd.DataFrame: ...


def evaluate_fairness(
    model: keras.Model,
    x: Any,
    y: ArrayLike,
    s: ArrayLike | None = None,
    *,
    sensitive_features: ArrayLike | None = None,
    representation_layer: str | keras.layers.Layer | None = None,
    n_estimators: int = 1000,
    threshold: float = 0.5,
    test_size: float | int = 0.3,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    as_frame: bool = False,
) -> dict[str, Any] | pd.DataFrame:
    """Accuracy and fairness of a Keras binary classifier and of its representation.

    Predicts scores with `model.predict` (a sigmoid output of shape `(n,)` or `(n, 1)`;
    any Keras binary classifier: functional, `keras.Sequential`, subclassed, and the
    package's `SensitiveSequential` and functional models with a `"sensitive"` input, which
    get S from `sensitive_features`, see `keras_sqnn.metrics.model_inputs.model_inputs`) and
    computes:

    - `auc`: ROC AUC of the scores for `y`;
    - `accuracy`: accuracy of the predictions `score >= threshold`;
    - `gpa`: group-dependent pairwise accuracy difference for S;
    - `audc`: area under the discrimination curve (100 thresholds on [0, 1]) for S;
    - `adrg`, `probe_accuracy`, `majority_ratio`, `probe_auc_s`, `probe_auc_y`: the
      `representation_probe` of the representation layer's outputs, with a random
      forest of `n_estimators` trees.

    With several sensitive attributes, S of shape `(n, k)` (a 2-D array or a k-column
    DataFrame), `gpa`, `audc` and the probe are about the observed intersections of the
    attributes (a combination without examples is no group), and the result also holds,
    after `audc`:

    - `gpa_<i>`, `audc_<i>` for each attribute i alone (column i of S);
    - `worst_gpa_pair`, `worst_audc_pair`: the pair of intersections (tuples of the k
      labels) behind `gpa` and `audc`, see `keras_sqnn.metrics.worst_group_pair`.

    The representation layer is `representation_layer` if given, else the last
    stochastically quantized layer found by `find_representation_layer`. When there is
    none, the probe is skipped and its five keys hold None.

    Args:
        model: a trained Keras binary classifier.
        x: its input data: the features (S is added from `sensitive_features` where the
            model takes it), or anything `model.predict` accepts; for a
            `SensitiveSequential` also `(x, s)` or `{"features": x, "sensitive": s}`. S
            inside `x` must group the examples as `sensitive_features` does.
        y: binary labels in {0, 1}, shape `(n,)`.
        s: deprecated, the former positional spelling of `sensitive_features`
            (`evaluate_fairness(model, x, y, s)` still works, with a `DeprecationWarning`,
            until 0.2).
        sensitive_features: the sensitive attribute S, keyword-only, shape `(n,)`, or
            `(n, k)` for k attributes; at least two groups (any labels for the metrics;
            integer ids in `[0, num_groups)` where the model takes S as input). Where the
            model's stochastic layers declare `num_groups`, it needs one column per
            attribute (column i of integer ids in `[0, g_i)` for
            `num_groups=(g_1, ..., g_k)`).
        representation_layer: the layer (or its name) whose outputs are probed; it must be
            a top-level layer of a functional, Sequential or SensitiveSequential model.
        n_estimators: trees of the probe forests (1000 in the paper).
        threshold: decision threshold for `accuracy`.
        test_size: test part of the probe's train/test split.
        random_state: seed of the probe's split and forests.
        n_jobs: parallel jobs of the probe forests.
        as_frame: return a one-row `pandas.DataFrame` instead of a dict.

    Returns:
        A dict from the metric names above to floats (None for skipped probe keys; pairs
        of groups for the `worst_*_pair` keys), or the same as a one-row DataFrame.

    Raises:
        TypeError: when S is given both as `sensitive_features` and as `s`, or not at all.
        ValueError: on invalid inputs, on S whose number of columns differs from the
            attributes the model's layers declare or with ids out of their range, and when
            GPA is undefined for the intersections or for one attribute alone (fewer than
            two groups that hold both classes).

    Example:

    >>> import keras
    >>> inputs = keras.Input((2,))
    >>> rep = keras.layers.Dense(4, name="rep")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(rep))
    >>> rng = np.random.default_rng(0)
    >>> x, y, s = rng.normal(size=(100, 2)), rng.integers(0, 2, 100), np.repeat([0, 1], 50)
    >>> report = evaluate_fairness(
    ...     model, x, y, sensitive_features=s, representation_layer="rep", n_estimators=10
    ... )
    >>> sorted(report)[:4]
    ['accuracy', 'adrg', 'auc', 'audc']

    References:
        - Cerrato, Köppel, Esposito and Kramer, "Invariant Representations with
          Stochastically Quantized Neural Networks", AAAI 2023, section "Metrics" and
          Figure 4.
    """
    if not hasattr(model, "predict"):
        raise ValueError(
            f"Expected `model` to be a Keras model. Received: model of type {type(model)}"
        )
    s = resolve_sensitive(
        sensitive_features, s, call="evaluate_fairness(model, x, y, sensitive_features=s)"
    )
    labels = check_binary_labels(y, "y")
    codes, _ = encode_groups(s, "sensitive_features")
    check_same_length(y=labels, sensitive_features=codes)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"Expected `threshold` in [0, 1]. Received: threshold={threshold}")

    inputs = model_inputs(model, x, s, y, name="sensitive_features")
    scores = predict_scores(model, inputs)
    check_same_length(**{"model.predict(x)": scores, "y": labels})
    result: dict[str, Any] = {
        "auc": auc(labels, scores),
        "accuracy": float(np.mean((scores >= threshold) == labels)),
        "gpa": group_pairwise_accuracy_difference(labels, scores, sensitive_features=s),
        "audc": area_under_discrimination_curve(labels, scores, sensitive_features=s),
    }
    columns = sensitive_columns(s, "sensitive_features")
    if len(columns) > 1:
        result.update(_per_attribute(labels, scores, columns))
        for metric in ("gpa", "audc"):
            result[f"worst_{metric}_pair"] = worst_group_pair(
                labels, scores, sensitive_features=s, metric=metric
            )
    result.update(dict.fromkeys(PROBE_KEYS))

    layer = representation_layer
    if layer is None:
        layer = find_representation_layer(model)
    if layer is not None:
        representation = extract_representation(model, inputs, layer)
        probe = representation_probe(
            representation,
            y=labels,
            sensitive_features=s,
            n_estimators=n_estimators,
            test_size=test_size,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        result.update(probe.as_dict())

    if as_frame:
        import pandas as pd

        return pd.DataFrame([result])
    return result


def _per_attribute(
    labels: np.ndarray, scores: np.ndarray, columns: list[np.ndarray]
) -> dict[str, float]:
    """`gpa_<i>` then `audc_<i>` of each column of S alone."""
    figures: dict[str, float] = {}
    for name, metric in (
        ("gpa", group_pairwise_accuracy_difference),
        ("audc", area_under_discrimination_curve),
    ):
        for i, column in enumerate(columns):
            try:
                figures[f"{name}_{i}"] = metric(labels, scores, sensitive_features=column)
            except ValueError as error:
                raise ValueError(
                    f"Attribute {i} of `sensitive_features` (column sensitive_features[:, {i}]): "
                    f"{error}"
                ) from error
    return figures


__all__ = [
    "evaluate_fairness",
    "extract_representation",
    "find_representation_layer",
    "predict_scores",
]
