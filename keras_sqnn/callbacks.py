"""Keras callbacks that report the information and fairness of a model while it trains."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_sqnn import information
from keras_sqnn.layers import stochastic_layers
from keras_sqnn.metrics import area_under_discrimination_curve, auc, gpa
from keras_sqnn.metrics.evaluate import predict_scores
from keras_sqnn.metrics.information_estimates import (
    encode_labels,
    mixture_mutual_information,
    sample_codes,
)
from keras_sqnn.metrics.information_probe import layer_probabilities
from keras_sqnn.metrics.model_inputs import DEFAULT_BATCH_SIZE, model_inputs
from keras_sqnn.validation import (
    check_1d,
    check_binary_labels,
    check_positive_int,
    check_same_length,
)


class InformationMonitor(keras.callbacks.Callback):
    """Logs each stochastic layer's ``I(T; S)`` and the model's fairness every few epochs.

    At the end of every ``every``-th epoch (epochs ``every``, ``2 * every``, ... counted
    from 1) it computes on ``validation_data = (x, y, s)``:

    * ``<prefix><layer>_mi_ts`` and ``<prefix><layer>_mi_ty``: for every stochastic binary
      layer, ``I(T; S)`` and ``I(T; Y)`` in bits of the layer's code, with the mixture
      estimator of :func:`keras_sqnn.metrics.mixture_mutual_information` on the layer's
      theta (exact up to ``max_exact_units`` units, else from ``n_samples`` sampled codes
      per example);
    * ``<prefix>auc``, ``<prefix>gpa``, ``<prefix>audc``: :func:`keras_sqnn.metrics.auc`,
      :func:`~keras_sqnn.metrics.gpa` and :func:`~keras_sqnn.metrics.audc` of the model's
      predicted probabilities (when ``fairness_metrics`` is True; needs binary ``y`` and a
      model with one sigmoid output),

    and writes them into the epoch's ``logs``.

    **List the monitor before every callback that reads its keys.** Keras calls the
    callbacks' ``on_epoch_end`` in list order with one shared ``logs`` dict, and appends
    its own ``History`` and progress bar after your list (``keras.callbacks.CallbackList``
    with ``add_history=True, add_progbar=verbose != 0``), so ``History.history`` and the
    progress bar always get the values. ``keras.callbacks.TensorBoard``,
    ``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger`` or ``ReduceLROnPlateau`` get them
    when they come after the monitor in ``callbacks=[...]``; one listed before it reads the
    epoch's logs without them. A ``keras.callbacks.History`` of your own listed before the
    monitor is an error (its ``history`` would lack the values). With the default
    ``prefix="val_"`` TensorBoard files them under its ``validation`` run as
    ``epoch_<layer>_mi_ts``, ``epoch_auc``, ... On the other epochs the keys are absent, so
    ``History.history[key]`` holds one value per monitored epoch.

    The model is run at inference (``training=False``); its predictions come from
    ``model.predict`` on ``x`` (with ``{"features": x, "sensitive": s}`` for a functional
    model with those two inputs, see :func:`keras_sqnn.metrics.information_probe.model_inputs`).

    Args:
        validation_data: ``(x, y, s)``: features, integer labels ``(n,)`` and integer
            sensitive ids ``(n,)``.
        every: monitor every ``every`` epochs.
        n_samples: codes sampled per example for layers wider than ``max_exact_units``.
        prefix: prefix of the log keys. A key already in ``logs`` (e.g. ``val_auc`` from
            a compiled metric named ``"auc"`` and ``fit(validation_data=...)``) raises an
            error rather than being overwritten: pick another prefix then.
        fairness_metrics: also log AUC, GPA and AUDC of the predictions.
        batch_size: examples per forward pass.
        max_exact_units: widest layer whose MI is enumerated exactly.
        seed: seed of the codes' sampler (combined with the epoch); None for fresh
            randomness.

    Example:
        >>> import keras, numpy as np
        >>> from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(128, 4)).astype("float32")
        >>> s = (x[:, 0] > 0).astype("int32"); y = (x[:, 1] > 0).astype("int32")
        >>> model = build_sqnn_classifier(4, SQNNConfig(n_hidden=2, hidden_size=4))
        >>> monitor = InformationMonitor(validation_data=(x, y, s))
        >>> history = model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0,
        ...                     callbacks=[monitor])
        >>> sorted(key for key in history.history if key.startswith("val_"))
        ['val_auc', 'val_audc', 'val_gpa', 'val_representation_mi_ts', 'val_representation_mi_ty']
    """

    x: Any
    y: np.ndarray
    s: np.ndarray
    every: int
    n_samples: int
    prefix: str
    fairness_metrics: bool
    batch_size: int
    max_exact_units: int
    seed: int | None

    def __init__(
        self,
        validation_data: tuple[Any, ArrayLike, ArrayLike],
        every: int = 1,
        n_samples: int = 1,
        prefix: str = "val_",
        fairness_metrics: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_exact_units: int = information.DEFAULT_MAX_EXACT_UNITS,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 3:
            length = len(validation_data) if hasattr(validation_data, "__len__") else None
            raise ValueError(
                "Expected `validation_data` to be a tuple (x, y, s). Received: "
                f"validation_data of type {type(validation_data).__name__}, length {length}"
            )
        if not isinstance(prefix, str):
            raise ValueError(f"Expected `prefix` to be a string. Received: prefix={prefix!r}")
        x, y, s = validation_data
        self.x = x
        self.s = check_1d(s, "s")
        self.y = check_1d(y, "y")
        self._s_labels = encode_labels(self.s, "s")
        self._y_labels = encode_labels(self.y, "y")
        self.fairness_metrics = bool(fairness_metrics)
        if self.fairness_metrics:
            self.y = check_binary_labels(self.y, "y")
        check_same_length(y=self.y, s=self.s)
        self.every = check_positive_int(every, "every")
        self.n_samples = check_positive_int(n_samples, "n_samples")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.max_exact_units = check_positive_int(max_exact_units, "max_exact_units", minimum=0)
        self.prefix = prefix
        self.seed = seed
        self._history_epochs: int | None = None

    def compute(self, epoch: int = 0) -> dict[str, float]:
        """The values the callback logs, for the model as it is now.

        Args:
            epoch: 0-based epoch, combined with ``seed`` to seed the codes' sampler.

        Returns:
            A dict from the log keys to floats.
        """
        model = self.model
        inputs = model_inputs(model, self.x, self.s, self.y)
        rng = np.random.default_rng(None if self.seed is None else [self.seed, epoch])
        values: dict[str, float] = {}
        for layer in stochastic_layers(model):
            theta = layer_probabilities(model, inputs, layer, batch_size=self.batch_size)
            check_same_length(**{f"{layer.name} outputs": theta, "s": self.s})
            codes = None
            if theta.shape[1] > self.max_exact_units:
                codes = sample_codes(theta, self.n_samples, rng)
            for suffix, labels in (("mi_ts", self._s_labels[0]), ("mi_ty", self._y_labels[0])):
                values[f"{self.prefix}{layer.name}_{suffix}"] = mixture_mutual_information(
                    theta, labels, codes, max_exact_units=self.max_exact_units
                )
        if self.fairness_metrics:
            scores = self._predict_scores(inputs)
            values[f"{self.prefix}auc"] = auc(self.y, scores)
            values[f"{self.prefix}gpa"] = gpa(self.y, scores, sensitive_features=self.s)
            values[f"{self.prefix}audc"] = area_under_discrimination_curve(
                self.y, scores, sensitive_features=self.s
            )
        return values

    def _predict_scores(self, inputs: Any) -> np.ndarray:
        try:
            scores = predict_scores(self.model, inputs, batch_size=self.batch_size)
        except ValueError as error:
            raise ValueError(f"{error} (or pass fairness_metrics=False)") from error
        check_same_length(**{"model.predict(x)": scores, "y": self.y})
        return scores

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Notes how many epochs the model's ``History`` holds, for :meth:`on_epoch_end`."""
        self._history_epochs = _recorded_epochs(self.model)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Writes :meth:`compute` into ``logs`` at the end of every ``every``-th epoch."""
        if logs is None:
            return
        self._check_history_comes_after()
        if (epoch + 1) % self.every:
            return
        values = self.compute(epoch)
        clashes = sorted(set(values) & set(logs))
        if clashes:
            raise ValueError(
                f"Expected the keys of InformationMonitor (prefix={self.prefix!r}) to be new "
                f"in the epoch's logs. Received: logs already holding {clashes}; pass another "
                "`prefix`, e.g. prefix='monitor_'"
            )
        logs.update(values)

    def _check_history_comes_after(self) -> None:
        """Raises if the model's ``History`` recorded this epoch before the monitor ran."""
        before = self._history_epochs
        if before is None:  # no History to watch, or on_epoch_end called outside `fit`
            return
        self._history_epochs = None
        after = _recorded_epochs(self.model)
        if after is not None and after > before:
            raise ValueError(
                "Expected InformationMonitor to come before keras.callbacks.History in "
                "`callbacks`: Keras hands the epoch's logs to the callbacks in list order, so "
                "a History listed first records them without the monitor's values. "
                "Received: a History that recorded the epoch before the monitor ran; list "
                "the monitor first (or leave the History out: fit() adds one after your "
                "callbacks)"
            )


def _recorded_epochs(model: keras.Model | None) -> int | None:
    """How many epochs ``model.history`` holds, or None without a started ``History``.

    ``fit`` sets ``model.history`` to the ``keras.callbacks.History`` of its callbacks,
    whose ``on_epoch_end`` appends the epoch to ``History.epoch``.
    """
    history = getattr(model, "history", None)
    if not isinstance(history, keras.callbacks.History):
        return None
    epochs = getattr(history, "epoch", None)  # set by History.on_train_begin
    return len(epochs) if isinstance(epochs, list) else None


__all__ = ["InformationMonitor"]
