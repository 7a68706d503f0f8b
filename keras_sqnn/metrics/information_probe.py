"""How much each stochastic binary layer of a trained model says about S and Y, in bits.

The paper estimates the joint density of a layer's code T from one sample per example and
notes that this needs many samples; it proposes repeated forward passes as future work.
:func:`information_report` does that: for every stochastic binary layer it computes the
layer's Bernoulli parameters ``theta(x)`` once, draws ``n_samples`` codes per example, and
reports, per layer, several estimates of ``I(T; S)`` and ``I(T; Y)`` next to ``H(T)``:

* **counting** (the paper's ``BinaryMI``): plug-in histogram of the ``n * n_samples``
  sampled codes. Biased upwards by about ``(|T| - 1)(|S| - 1) / (2 N ln 2)`` bits with
  ``|T|`` observed codes and ``N`` samples, so it tends to ``H(S)`` when almost every code
  is unique (wide layers).
* **mixture**: ``I(T; S)`` of the mixture ``p(t | s) = mean_{x in s} p(t | theta(x))``;
  exact by enumerating the ``2**units`` codes up to ``max_exact_units`` units, else the
  Monte-Carlo mean of ``log2 p(t | s) - log2 p(t)`` over the sampled codes (unbiased given
  the data, so it may dip below 0 by its noise).
* **sum of per-unit MI** ``sum_i I(T_i; S)``: the paper's ``BinaryBernoulli`` term
  (a surrogate, not a bound on ``I(T; S)`` in general).

All three estimate the same quantity, the information of the layer's code about S when the
data are the empirical distribution of X; the codes are sampled as at inference (layers
before the probed one run with ``training=False``). That quantity is itself a plug-in
estimate of the population ``I(T; S)``: in a wide layer with sharp theta a code often
points back to the one example that drew it, and the mixture MI then approaches ``H(S)``
even when the population's T is independent of S (50 units with theta uniform on [0, 1]
and 16k examples give about 0.5 bits). Compare layers and models on the same data, and
check that the value falls as the layer's theta flattens.

References:
    Cerrato, Köppel, Esposito, Kramer (2022). Invariant Representations with Stochastically
    Quantized Neural Networks. AAAI. Section "Computing the mutual information".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from keras_sqnn import information
from keras_sqnn.layers import StochasticBinaryMixin, resolve_stochastic_layer, stochastic_layers
from keras_sqnn.metrics.information_estimates import (
    DEFAULT_CHUNK_SIZE,
    code_ids,
    encode_labels,
    entropy_of_ids,
    mixture_mutual_information,
    plugin_mutual_information_of_ids,
    sample_codes,
    sum_unit_mutual_information,
)
from keras_sqnn.metrics.model_inputs import (
    DEFAULT_BATCH_SIZE,
    feature_arrays,
    model_inputs,
    stack_layer_inputs,
)
from keras_sqnn.models import SensitiveSequential, split_inputs
from keras_sqnn.validation import (
    check_positive_int,
    check_same_length,
    intersection_codes,
    resolve_sensitive,
    sensitive_columns,
)

DEFAULT_N_SAMPLES = 10
"""Codes sampled per example by :func:`information_report`."""

REPORT_COLUMNS = (
    "layer",
    "units",
    "n",
    "n_samples",
    "mixture_method",
    "mi_ts_counting",
    "mi_ts_mixture",
    "sum_unit_mi_ts",
    "mi_ty_counting",
    "mi_ty_mixture",
    "entropy_t",
    "entropy_s",
    "entropy_y",
)
"""Columns of the DataFrame returned by :func:`information_report`, in order (for S with
several columns, :func:`report_columns` adds the figures of each attribute)."""

ATTRIBUTE_COLUMNS = ("mi_ts_counting", "mi_ts_mixture", "sum_unit_mi_ts", "entropy_s")
"""Figures :func:`information_report` repeats per attribute, as ``<name>_<i>``."""


def _probed_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The stochastic binary layers at the top level of ``model``: those the probe can run.

    Raises:
        ValueError: if a nested model holds a stochastic binary layer (probe the nested
            model itself).
    """
    for layer in model.layers:
        if not isinstance(layer, StochasticBinaryMixin) and stochastic_layers(layer):
            raise ValueError(
                "Expected the stochastic binary layers at the top level of `model`. "
                f"Received: model {model.name!r} with a nested model {layer.name!r} that "
                "holds one; probe the nested model (with its own inputs) instead"
            )
    return stochastic_layers(model, recursive=False)


def _probed_layer(model: keras.Model, layer: str | keras.layers.Layer) -> keras.layers.Layer:
    """The top-level stochastic binary layer that ``layer`` is, or names."""
    _probed_layers(model)
    return resolve_stochastic_layer(model, layer, recursive=False)


def _theta(layer: Any, h: Any) -> np.ndarray:
    theta = layer.probabilities(keras.ops.cast(h, layer.compute_dtype))
    array = keras.ops.convert_to_numpy(theta).astype(np.float32)
    return array.reshape(array.shape[0], -1)


def layer_probabilities(
    model: keras.Model,
    x: Any,
    layer: str | keras.layers.Layer,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Bernoulli parameters ``theta`` of a stochastic binary layer for inputs ``x``.

    For a :class:`~keras_sqnn.models.SensitiveSequential`, runs the layers before ``layer``
    on the features (``training=False``, as at inference) and calls
    ``layer.probabilities``. For a functional or Sequential model, predicts the layer's
    first input with ``keras.Model(model.input, layer.input)`` (the layer's first call) and
    applies ``layer.probabilities``. Both in batches of ``batch_size`` examples.

    Args:
        model: the model holding ``layer`` at its top level.
        x: inputs as ``model.predict`` takes them (for a SensitiveSequential: features, a
            tuple ``(x, s)`` or a dict with ``"features"``; S is ignored).
        layer: the layer or its name.
        batch_size: examples per forward pass.

    Returns:
        ``(n, units)`` float32 array (a convolution's feature map is flattened).

    Example:
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> layer = StochasticBinaryDense(1, kernel_initializer="zeros", name="t")
        >>> model = SensitiveSequential([keras.Input((3,)), layer])
        >>> layer_probabilities(model, np.ones((2, 3)), "t").tolist()
        [[0.5], [0.5]]
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    resolved = _probed_layer(model, layer)
    if isinstance(model, SensitiveSequential):
        features = split_inputs(x)[0]
        batches = stack_layer_inputs(model, features, resolved, batch_size)
        return np.concatenate([_theta(resolved, h) for h in batches])
    try:
        inputs = model.inputs if isinstance(model, keras.Sequential) else model.input
        # A layer called as `layer(h, sensitive=s)` lists [h, s]: its first input is h.
        layer_input = keras.tree.flatten(resolved.input)[0]
        submodel = keras.Model(inputs, layer_input)
    except (AttributeError, ValueError) as error:
        raise ValueError(
            "Expected `model` to be a SensitiveSequential, or a functional or Sequential "
            "model in which the layer was called on its inputs, so that a sub-model from the "
            f"model's inputs to the layer's input can be built. Received: model "
            f"{model.name!r} of type {type(model).__name__}, layer={resolved.name!r} ({error})"
        ) from error
    hidden = submodel.predict(x, batch_size=batch_size, verbose=0)
    return np.concatenate(
        [
            _theta(resolved, hidden[start : start + batch_size])
            for start in range(0, hidden.shape[0], batch_size)
        ]
    )


def _information_row(
    name: str,
    theta: np.ndarray,
    s: tuple[np.ndarray, int],
    y: tuple[np.ndarray, int] | None,
    attributes: list[tuple[np.ndarray, int]],
    n_samples: int,
    rng: np.random.Generator,
    max_exact_units: int,
    chunk_size: int,
) -> dict[str, Any]:
    n, units = theta.shape
    if not np.isfinite(theta).all():
        raise ValueError(
            f"Expected finite probabilities from layer {name!r}. Received: theta with "
            f"{int(np.sum(~np.isfinite(theta)))} non-finite values (NaN weights or inputs?)"
        )
    codes = sample_codes(theta, n_samples, rng)
    ids = code_ids(codes)

    def mixture(labels: tuple[np.ndarray, int]) -> float:
        return mixture_mutual_information(
            theta, labels[0], codes, max_exact_units=max_exact_units, chunk_size=chunk_size
        )

    def counting(labels: tuple[np.ndarray, int]) -> float:
        return plugin_mutual_information_of_ids(ids, np.tile(labels[0], n_samples), labels[1])

    nan = float("nan")
    per_attribute: dict[str, Any] = {}
    for i, labels in enumerate(attributes):
        per_attribute[f"mi_ts_counting_{i}"] = counting(labels)
        per_attribute[f"mi_ts_mixture_{i}"] = mixture(labels)
        per_attribute[f"sum_unit_mi_ts_{i}"] = sum_unit_mutual_information(theta, *labels)
        per_attribute[f"entropy_s_{i}"] = entropy_of_ids(labels[0])
    return {
        "layer": name,
        "units": units,
        "n": n,
        "n_samples": n_samples,
        "mixture_method": "exact" if units <= max_exact_units else "sampled",
        "mi_ts_counting": counting(s),
        "mi_ts_mixture": mixture(s),
        "sum_unit_mi_ts": sum_unit_mutual_information(theta, *s),
        "mi_ty_counting": nan if y is None else counting(y),
        "mi_ty_mixture": nan if y is None else mixture(y),
        "entropy_t": entropy_of_ids(ids),
        "entropy_s": entropy_of_ids(s[0]),
        "entropy_y": nan if y is None else entropy_of_ids(y[0]),
        **per_attribute,
    }


def information_report(
    model: keras.Model,
    x: Any,
    y: ArrayLike | None = None,
    *,
    sensitive_features: ArrayLike | None = None,
    s: ArrayLike | None = None,
    n_samples: int = DEFAULT_N_SAMPLES,
    layers: Sequence[str | keras.layers.Layer] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_exact_units: int = information.DEFAULT_MAX_EXACT_UNITS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    seed: int | None = 0,
) -> pd.DataFrame:
    """``I(T; S)``, ``I(T; Y)`` and ``H(T)`` of every stochastic binary layer, in bits.

    Computes each layer's theta on ``x`` (see :func:`layer_probabilities`), draws
    ``n_samples`` codes per example (``n_samples`` stochastic forward passes of the
    layer), and estimates the information of the layer's code T about S and Y three ways
    (see the module docstring). Cost per layer: the forward pass, plus for layers wider
    than ``max_exact_units`` the sampled mixture estimate in ``O(n_samples * n**2 * units)``
    time (per label, S and Y).

    Args:
        model: a trained :class:`~keras_sqnn.models.SensitiveSequential`, functional or
            Sequential model.
        x: features (or the model's full inputs); for a functional model with a
            ``"sensitive"`` input the features are enough (see :func:`model_inputs`).
        y: optional ``(n,)`` integer class labels (binary or multiclass).
        sensitive_features: the sensitive attribute S, ``(n,)`` integer ids, or ``(n, k)``
            (a 2-D array or a k-column DataFrame) for k attributes; keyword-only, so that a
            call in the order ``(model, x, s, y)`` raises a ``TypeError`` instead of
            swapping S and Y. Where the model's layers take S it needs one column per
            attribute they declare.
        s: deprecated, the former keyword spelling of ``sensitive_features``
            (``information_report(model, x, y, s=s)`` still works, with a
            ``DeprecationWarning``, until 0.2).
        n_samples: codes sampled per example, >= 1.
        layers: layers (or names) to probe; by default every stochastic binary layer.
        batch_size: examples per forward pass.
        max_exact_units: widest layer whose mixture MI is enumerated exactly.
        chunk_size: codes per step of the sampled mixture estimate.
        seed: seed of the NumPy generator that samples the codes (the layers' own seed
            generators are not used, so the model's state is left as is).

    Returns:
        A DataFrame with one row per layer and the columns :data:`REPORT_COLUMNS`:
        ``layer``, ``units``, ``n``, ``n_samples``, ``mixture_method`` (``"exact"`` or
        ``"sampled"``), ``mi_ts_counting``/``mi_ty_counting`` (plug-in over the
        ``n * n_samples`` codes), ``mi_ts_mixture``/``mi_ty_mixture`` (mixture over the
        ``n`` examples), ``sum_unit_mi_ts`` (``sum_i I(T_i; S)``), ``entropy_t`` (plug-in
        ``H(T)`` of the codes), ``entropy_s`` and ``entropy_y`` (plug-in ``H(S)``,
        ``H(Y)``). The Y columns are NaN when ``y`` is None. With k > 1 columns of S the
        S columns are about their observed intersections (a combination without examples
        is no group), and :func:`report_columns` adds ``mi_ts_counting_<i>``,
        ``mi_ts_mixture_<i>``, ``sum_unit_mi_ts_<i>``, ``entropy_s_<i>`` for each
        attribute i alone.

    Raises:
        TypeError: when S is given both as ``sensitive_features`` and as ``s``, or not at
            all.

    Example:
        >>> from keras_sqnn.layers import StochasticBinaryDense
        >>> s = np.arange(200) % 2
        >>> x = (2.0 * s - 1.0)[:, None].astype("float32")
        >>> copy = StochasticBinaryDense(1, kernel_initializer=keras.initializers.Constant(50.0),
        ...                              name="copy")
        >>> model = SensitiveSequential([keras.Input((1,)), copy])
        >>> report = information_report(model, x, sensitive_features=s, n_samples=4)
        >>> report.loc[0, ["mi_ts_counting", "mi_ts_mixture", "entropy_s"]].round(3).tolist()
        [1.0, 1.0, 1.0]
    """
    s = resolve_sensitive(
        sensitive_features, s, call="information_report(model, x, y, sensitive_features=s)"
    )
    n_samples = check_positive_int(n_samples, "n_samples")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_exact_units = check_positive_int(max_exact_units, "max_exact_units", minimum=0)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    features = feature_arrays(x)
    attributes = _attribute_labels(s)
    s_labels = attributes[0] if len(attributes) == 1 else _intersection_labels(attributes)
    lengths = {f"x[{i}]" if len(features) > 1 else "x": a for i, a in enumerate(features)}
    lengths["sensitive_features"] = s_labels[0]
    y_labels = None
    if y is not None:
        y_labels = encode_labels(y, "y")
        lengths["y"] = y_labels[0]
    check_same_length(**lengths)
    if layers is None:
        chosen = _probed_layers(model)
        if not chosen:
            raise ValueError(
                "Expected `model` to have at least one stochastic binary layer at its top "
                f"level. Received: model {model.name!r} with layers "
                f"{[layer.name for layer in model.layers]}"
            )
    else:
        chosen = [_probed_layer(model, layer) for layer in layers]
    inputs = model_inputs(model, x, s, y, name="sensitive_features")
    rng = np.random.default_rng(seed)
    rows = [
        _information_row(
            layer.name,
            layer_probabilities(model, inputs, layer, batch_size=batch_size),
            s_labels,
            y_labels,
            attributes if len(attributes) > 1 else [],
            n_samples,
            rng,
            max_exact_units,
            chunk_size,
        )
        for layer in chosen
    ]
    return pd.DataFrame(rows, columns=report_columns(len(attributes)))


def report_columns(num_attributes: int = 1) -> list[str]:
    """The columns of :func:`information_report` for S with ``num_attributes`` columns.

    :data:`REPORT_COLUMNS`, then for several attributes, per attribute i (column i of S
    alone): ``mi_ts_counting_<i>``, ``mi_ts_mixture_<i>``, ``sum_unit_mi_ts_<i>`` and
    ``entropy_s_<i>``.

    Example:
        >>> report_columns(2)[len(REPORT_COLUMNS):][:4]
        ['mi_ts_counting_0', 'mi_ts_mixture_0', 'sum_unit_mi_ts_0', 'entropy_s_0']
    """
    columns = list(REPORT_COLUMNS)
    if num_attributes > 1:
        for i in range(num_attributes):
            columns += [f"{name}_{i}" for name in ATTRIBUTE_COLUMNS]
    return columns


def _attribute_labels(s: ArrayLike) -> list[tuple[np.ndarray, int]]:
    """Codes of each column of S (integer labels), with its number of labels."""
    name = "sensitive_features"
    columns = sensitive_columns(s, name)
    if len(columns) == 1:
        return [encode_labels(columns[0], name)]
    return [encode_labels(column, f"{name}[:, {i}]") for i, column in enumerate(columns)]


def _intersection_labels(attributes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """Codes of the observed intersections of several columns of S."""
    codes, combinations = intersection_codes(
        [codes for codes, _ in attributes], [count for _, count in attributes]
    )
    return codes, combinations.shape[0]


__all__ = [
    "ATTRIBUTE_COLUMNS",
    "DEFAULT_N_SAMPLES",
    "REPORT_COLUMNS",
    "information_report",
    "layer_probabilities",
    "report_columns",
]
