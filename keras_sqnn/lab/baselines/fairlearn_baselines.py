"""fairlearn's mitigation methods behind the harness' `fit(x, y, s)` and `predict_proba` calls.

fairlearn is an optional dependency (``pip install 'keras_sqnn[fairlearn]'``), imported
only when a model is fitted.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_sqnn.lab.baselines._inputs import (
    check_non_negative,
    check_seed,
    check_units,
    initializer,
)
from keras_sqnn.validation import check_positive_int

CONSTRAINTS = ("demographic_parity", "equalized_odds")
ESTIMATORS = ("logistic", "forest")


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"The fairlearn baselines need fairlearn: pip install 'keras_sqnn[fairlearn]' "
            f"(could not import {module!r}: {error})"
        ) from error


def _check_choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ValueError(f"Expected `{name}` to be one of {choices}. Received: {name}={value!r}")
    return str(value)


def _check_fitted(model: Any, attribute: str, name: str) -> None:
    if getattr(model, attribute, None) is None:
        raise ValueError(f"This {name} is not fitted yet: call `fit(x, y, s)` first.")


class ExponentiatedGradientClassifier:
    """fairlearn's ``ExponentiatedGradient`` reduction (Agarwal et al. 2018) for the harness.

    Learns a randomized classifier ``Q``, a mixture of base classifiers, whose demographic
    parity (or equalized odds) difference is at most ``epsilon`` on the training data
    (``difference_bound=epsilon`` of the fairlearn constraint; the reduction's own ``eps``
    stays at fairlearn's default). The score of an example is the probability that ``Q``
    predicts 1, ``sum_i weights_[i] * predictors_[i].predict(x)``: what fairlearn's
    randomized ``predict`` draws from, computed from its public fitted attributes. With
    hard base predictions these scores take few distinct values, so AUCs are computed on
    many ties. S is needed in ``fit`` only. There is no learnt representation:
    :meth:`representation` returns None (the harness reports ADRG as NaN). Not a Keras
    model: it has no ``.keras`` file.

    Args:
        epsilon: the allowed constraint violation, in ``[0, 1]``.
        constraint: ``"demographic_parity"`` or ``"equalized_odds"``.
        estimator: base estimator, ``"logistic"`` (``LogisticRegression(max_iter=1000)``) or
            ``"forest"`` (``RandomForestClassifier(50 trees, max_depth=6)``).
        max_iter: iterations of the reduction.
        seed: seed of the base estimator.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> s = rng.integers(0, 2, 300); x = rng.normal(size=(300, 3)) + s[:, None]
        >>> y = (x[:, 0] > 0.5).astype(int)
        >>> model = ExponentiatedGradientClassifier(epsilon=0.02).fit(x, y, s)
        >>> model.predict_proba(x).shape
        (300,)

    References:
        - Agarwal, Beygelzimer, Dudík, Langford and Wallach, "A Reductions Approach to
          Fair Classification", ICML 2018.
    """

    param_name = "epsilon"

    def __init__(
        self,
        epsilon: float = 0.01,
        *,
        constraint: str = "demographic_parity",
        estimator: str = "logistic",
        max_iter: int = 50,
        seed: int | None = 0,
    ) -> None:
        self.epsilon = check_non_negative(epsilon, "epsilon", maximum=1.0)
        self.constraint = _check_choice(constraint, CONSTRAINTS, "constraint")
        self.estimator = _check_choice(estimator, ESTIMATORS, "estimator")
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.seed = check_seed(seed)
        self.name = "fairlearn_eg" if constraint == "demographic_parity" else "fairlearn_eg_eo"
        self.model: Any = None

    @property
    def param(self) -> float:
        """The fairness parameter ``epsilon``."""
        return self.epsilon

    def _base_estimator(self) -> Any:
        if self.estimator == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(max_iter=1000)
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=50, max_depth=6, random_state=self.seed)

    def fit(self, x: Any, y: Any, s: Any) -> ExponentiatedGradientClassifier:
        """Run the reduction on features ``x``, binary labels ``y`` and groups ``s``."""
        reductions = _import("fairlearn.reductions")
        moment = (
            reductions.DemographicParity
            if self.constraint == "demographic_parity"
            else reductions.EqualizedOdds
        )
        self.model = reductions.ExponentiatedGradient(
            self._base_estimator(),
            constraints=moment(difference_bound=self.epsilon),
            max_iter=self.max_iter,
        )
        self.model.fit(np.asarray(x), np.asarray(y), sensitive_features=np.asarray(s))
        return self

    def predict_proba(self, x: Any, s: Any = None) -> np.ndarray:
        """P(Q predicts 1) for each row of ``x``, shape ``(n,)``; ``s`` is not used."""
        _check_fitted(self, "model", type(self).__name__)
        x = np.asarray(x)
        scores = np.zeros(len(x))
        for weight, predictor in zip(self.model.weights_, self.model.predictors_, strict=True):
            if weight > 0:
                scores += weight * np.asarray(predictor.predict(x), dtype=np.float64)
        return np.clip(scores, 0.0, 1.0)

    def representation(self, x: Any, s: Any = None) -> None:
        """None: the reduction learns no representation."""
        return None


def _mlp(inputs: int, units: Sequence[int], outputs: int, activation: str, seed: Any) -> Any:
    layers: list[Any] = [keras.Input((inputs,))]
    for index, size in enumerate(units):
        layers.append(
            keras.layers.Dense(size, activation="relu", kernel_initializer=initializer(seed, index))
        )
    layers.append(
        keras.layers.Dense(outputs, activation=activation, kernel_initializer=initializer(seed, 50))
    )
    return keras.Sequential(layers)


class AdversarialFairnessClassifier:
    """fairlearn's ``AdversarialFairnessClassifier`` (Zhang et al. 2018), TensorFlow backend.

    We build the predictor (``hidden_units`` ReLU layers, sigmoid output) and the adversary
    as plain ``keras.Sequential`` models and let fairlearn train them: the adversary sees
    the predicted probability (and the label, for equalized odds) and predicts S; the
    predictor's gradient is projected away from the adversary's and ``alpha`` times the
    adversary's gradient is subtracted. fairlearn's training loop runs eagerly, batch by
    batch. S is needed in ``fit`` only. The score is the predictor's output; the
    representation is its last hidden layer; :attr:`predictor` is a plain Keras model that
    saves to ``.keras``.

    Args:
        alpha: weight of the adversarial gradient, >= 0 (fairlearn's ``alpha``).
        constraint: ``"demographic_parity"`` or ``"equalized_odds"``.
        hidden_units: hidden layers of the predictor (at least one).
        adversary_units: hidden layers of the adversary.
        epochs: training epochs.
        batch_size: batch size.
        learning_rate: Adam's learning rate of both networks.
        seed: seed of the initializers, the shuffling and TensorFlow.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> s = rng.integers(0, 2, 200); x = (rng.normal(size=(200, 3)) + s[:, None])
        >>> y = (x[:, 0] > 0.5).astype(int)
        >>> model = AdversarialFairnessClassifier(alpha=1.0, epochs=1).fit(x, y, s)
        >>> model.predict_proba(x).shape, model.representation(x).shape
        ((200,), (200, 20))

    References:
        - Zhang, Lemoine and Mitchell, "Mitigating Unwanted Biases with Adversarial
          Learning", AIES 2018.
    """

    param_name = "alpha"

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        constraint: str = "demographic_parity",
        hidden_units: Sequence[int] = (20, 20),
        adversary_units: Sequence[int] = (20,),
        epochs: int = 20,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        seed: int | None = 0,
    ) -> None:
        self.alpha = check_non_negative(alpha, "alpha")
        self.constraint = _check_choice(constraint, CONSTRAINTS, "constraint")
        self.hidden_units = check_units(hidden_units, "hidden_units")
        self.adversary_units = check_units(adversary_units, "adversary_units", allow_empty=True)
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.learning_rate = check_non_negative(learning_rate, "learning_rate")
        self.seed = check_seed(seed)
        self.name = "fairlearn_adv"
        self.model: Any = None
        self.predictor: Any = None

    @property
    def param(self) -> float:
        """The fairness parameter ``alpha``."""
        return self.alpha

    def fit(self, x: Any, y: Any, s: Any) -> AdversarialFairnessClassifier:
        """Train the predictor and the adversary on ``x``, ``y`` and groups ``s``."""
        adversarial = _import("fairlearn.adversarial")
        x = np.asarray(x, dtype=np.float32)
        s = np.asarray(s)
        n_groups = int(np.unique(s).size)
        if n_groups < 2:
            raise ValueError(
                f"Expected at least two groups in `s`. Received: s with {n_groups} group"
            )
        outputs, activation = (1, "sigmoid") if n_groups == 2 else (n_groups, "softmax")
        pass_y = 2 if self.constraint == "equalized_odds" else 1
        self.predictor = _mlp(x.shape[1], self.hidden_units, 1, "sigmoid", self.seed)
        adversary = _mlp(
            pass_y,
            self.adversary_units,
            outputs,
            activation,
            None if self.seed is None else self.seed + 1000,
        )
        self.model = adversarial.AdversarialFairnessClassifier(
            backend="tensorflow",
            predictor_model=self.predictor,
            adversary_model=adversary,
            constraints=self.constraint,
            learning_rate=self.learning_rate,
            alpha=self.alpha,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=True,
            random_state=self.seed,
        )
        self.model.fit(x, np.asarray(y), sensitive_features=s)
        _repair_global_tf_seed()
        return self

    def predict_proba(self, x: Any, s: Any = None) -> np.ndarray:
        """The predictor's P(y=1) for each row of ``x``, shape ``(n,)``; ``s`` is not used."""
        _check_fitted(self, "predictor", type(self).__name__)
        x = np.asarray(x, dtype=np.float32)
        return np.asarray(self.predictor.predict(x, verbose=0, batch_size=4096))[:, 0]

    def representation(self, x: Any, s: Any = None) -> np.ndarray:
        """The predictor's last hidden layer for each row of ``x``."""
        _check_fitted(self, "predictor", type(self).__name__)
        hidden = keras.Model(self.predictor.inputs, self.predictor.layers[-2].output)
        return np.asarray(hidden.predict(np.asarray(x, np.float32), verbose=0, batch_size=4096))


def _repair_global_tf_seed() -> None:
    """Make TensorFlow's global seed an integer again after fairlearn's TensorFlow engine.

    fairlearn seeds TensorFlow with ``tf.random.set_seed(random_state.random())``, a float in
    [0, 1), after which any op that derives a seed from the global one (``tf.data``'s
    ``shuffle``, unseeded initializers) fails. The float becomes the integer it stands for.
    """
    import tensorflow as tf

    global_seed, _ = tf.compat.v1.random.get_seed(None)
    if global_seed is not None and not isinstance(global_seed, int):
        tf.random.set_seed(int(float(global_seed) * 2**31))
