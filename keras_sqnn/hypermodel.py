"""What a fairness search searches: the paper's space, its hypermodel, its score.

* :func:`fairness_score` is the paper's selection score ``AUC + (1 - GPA) + (1 - AUDC)``.
* :func:`sqnn_space` declares the paper's space (Table 2): gamma (log-uniform 0.001-1),
  batch size, number of hidden layers (1-5), hidden size (10-50), hybrid or fully binary,
  position of the stochastic layer, MI estimator. :class:`SQNNHyperModel` searches it, with
  the learning rate and the epochs fixed.

:class:`keras_sqnn.tuning.FairnessTuner` runs the search; ``keras_sqnn.tuning`` re-exports
these names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from keras_sqnn import metrics
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.validation import resolve_sensitive

OBJECTIVE = "fairness_score"
ESTIMATORS = ("bernoulli", "joint")


def fairness_score(
    y_true: Any, y_score: Any, s: Any = None, *, sensitive_features: Any = None
) -> dict[str, float]:
    """The paper's model-selection score ``AUC + (1 - GPA) + (1 - AUDC)`` and its parts.

    Args:
        y_true: binary labels in {0, 1}, shape ``(n,)``.
        y_score: predicted probabilities, shape ``(n,)``.
        s: deprecated, the former positional spelling of ``sensitive_features``
            (``fairness_score(y_true, y_score, s)`` still works, with a
            ``DeprecationWarning``, until 0.2).
        sensitive_features: the sensitive attribute S, keyword-only, as for
            :func:`keras_sqnn.metrics.gpa`.

    Returns:
        A dict with the score under :data:`OBJECTIVE` (``"fairness_score"``), and ``auc``,
        ``gpa`` and ``audc``.

    Raises:
        TypeError: when S is given both as ``sensitive_features`` and as ``s``, or not at
            all.

    Example:
        >>> score = fairness_score([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.7],
        ...                        sensitive_features=["a", "a", "b", "b"])
        >>> {name: round(value, 3) for name, value in score.items()}
        {'fairness_score': 2.899, 'auc': 1.0, 'gpa': 0.0, 'audc': 0.101}
    """
    s = resolve_sensitive(
        sensitive_features, s, call="fairness_score(y_true, y_score, sensitive_features=s)"
    )
    auc = metrics.auc(y_true, y_score)
    gpa = metrics.gpa(y_true, y_score, sensitive_features=s)
    audc = metrics.audc(y_true, y_score, sensitive_features=s)
    return {OBJECTIVE: auc + (1.0 - gpa) + (1.0 - audc), "auc": auc, "gpa": gpa, "audc": audc}


def sqnn_space(
    hp: kt.HyperParameters, *, estimators: Sequence[str] | None = None
) -> dict[str, Any]:
    """The paper's Table 2 space of an SQNN classifier: ``SQNNConfig`` fields.

    Args:
        hp: the hyper-parameters, declared on first use (afterwards their values are read).
        estimators: None fixes the MI estimator (the method's); a list of estimators makes
            it a ``Choice`` named ``"estimator"`` (:class:`SQNNHyperModel`'s space).

    Returns:
        ``gamma``, (``estimator``), ``n_hidden``, ``hidden_size``, ``hybrid``,
        ``stochastic_position`` (at most ``n_hidden - 1``) and ``batch_size``.

    Example:
        >>> import keras_tuner as kt
        >>> sorted(sqnn_space(kt.HyperParameters()))  # doctest: +NORMALIZE_WHITESPACE
        ['batch_size', 'gamma', 'hidden_size', 'hybrid', 'n_hidden',
         'stochastic_position']
    """
    n_hidden = hp.Int("n_hidden", 1, 5, default=3)
    position = hp.Int("stochastic_position", 0, 4, default=4)
    values: dict[str, Any] = {"gamma": hp.Float("gamma", 1e-3, 1.0, sampling="log", default=0.05)}
    if estimators is not None:
        values["estimator"] = hp.Choice("estimator", list(estimators))
    return {
        **values,
        "n_hidden": n_hidden,
        "hidden_size": hp.Int("hidden_size", 10, 50, default=30),
        "hybrid": hp.Boolean("hybrid", default=True),
        # Positions past the last hidden layer mean the last one.
        "stochastic_position": min(position, n_hidden - 1),
        "batch_size": declare_batch_size(hp),
    }


def declare_batch_size(hp: kt.HyperParameters) -> int:
    """Declare (on first use) and read ``batch_size``: an integer in 64..256, default 128.

    The batch size of the paper's Table 2, searched alike for the SQNNs and the baselines
    (:mod:`keras_sqnn.lab.experiments.spaces`).
    """
    return int(hp.Int("batch_size", 64, 256, default=128))


class SQNNHyperModel(kt.HyperModel):
    """The paper's search space for SQNN binary classifiers.

    Args:
        input_dim: number of input features (used to declare the space; each fold builds
            its model for its own preprocessed width).
        num_groups: number of values of S.
        estimators: MI estimators to choose from (``"bernoulli"``, ``"joint"``).
        learning_rate: fixed Adam learning rate (paper: 1e-4).
        epochs: fixed number of epochs (paper: 100).
        seed: seed of the weights and of the stochastic layers.

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> config = SQNNHyperModel(10).config_from(hp)
        >>> config.estimator in ESTIMATORS
        True
    """

    saves_models = True

    def __init__(
        self,
        input_dim: int,
        *,
        num_groups: int = 2,
        estimators: tuple[str, ...] = ESTIMATORS,
        learning_rate: float = 1e-4,
        epochs: int = 100,
        seed: int = 0,
        name: str = "sqnn",
    ) -> None:
        unknown = set(estimators) - set(ESTIMATORS)
        if not estimators or unknown:
            raise ValueError(
                f"Expected `estimators` drawn from {ESTIMATORS}. Received: estimators={estimators}"
            )
        if epochs < 1:
            raise ValueError(f"Expected `epochs` >= 1. Received: epochs={epochs}")
        super().__init__(name=name)
        self.input_dim = input_dim
        self.num_groups = num_groups
        self.estimators = tuple(estimators)
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.seed = seed

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        self.config_from(hp)

    def config_from(self, hp: kt.HyperParameters) -> SQNNConfig:
        """Declare (on first use) and read the hyper-parameters as an :class:`SQNNConfig`.

        The space is :func:`sqnn_space`, with the estimator a choice among ``estimators``.
        """
        values = sqnn_space(hp, estimators=self.estimators)
        return SQNNConfig(**values, learning_rate=self.learning_rate, epochs=self.epochs)

    def protocol(self) -> dict[str, Any]:
        """The fixed settings of every trial, part of a stored search's fingerprint."""
        return {
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "estimators": list(self.estimators),
            "seed": self.seed,
        }

    def build(self, hp: kt.HyperParameters, input_dim: int | None = None) -> keras.Model:
        return build_sqnn_classifier(
            input_dim or self.input_dim,
            self.config_from(hp),
            num_groups=self.num_groups,
            seed=self.seed,
        )

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        """``model.fit`` with the trial's ``batch_size`` and, unless given, ``epochs``.

        KerasTuner's tuners call this for each trial (``HyperModel.fit``), so a stock
        tuner, e.g. ``kt.RandomSearch(SQNNHyperModel(...), ...)``, trains with the batch
        size it chose. The batch size is a hyper-parameter: passing ``batch_size`` is an
        error.
        """
        if "batch_size" in kwargs:
            raise TypeError(
                "Expected no `batch_size`: SQNNHyperModel.fit uses the trial's `batch_size` "
                f"hyper-parameter. Received: batch_size={kwargs['batch_size']!r}"
            )
        kwargs.setdefault("epochs", self.epochs)
        return model.fit(*args, batch_size=self.config_from(hp).batch_size, **kwargs)

    def fit_and_score(self, hp: kt.HyperParameters, fold: Any) -> tuple[keras.Model, dict]:
        """Train on a fold's training rows; :func:`fairness_score` on its test rows."""
        keras.utils.set_random_seed(self.seed)
        model = self.build(hp, input_dim=fold.x_train.shape[1])
        self.fit(
            hp,
            model,
            {"features": fold.x_train, "sensitive": fold.s_train},
            np.asarray(fold.y_train, "float32"),
            verbose=0,
        )
        scores = model.predict(fold.x_test, batch_size=4096, verbose=0).reshape(-1)
        return model, fairness_score(fold.y_test, scores, sensitive_features=fold.s_test)


__all__ = [
    "ESTIMATORS",
    "OBJECTIVE",
    "SQNNHyperModel",
    "declare_batch_size",
    "fairness_score",
    "sqnn_space",
]
