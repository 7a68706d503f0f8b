"""Every method of the comparison behind one interface: ``fit(x, y, s)``, scores, representation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import keras
import numpy as np

from keras_sqnn.baselines.adversarial import build_adversarial_classifier
from keras_sqnn.baselines.fairlearn_baselines import (
    AdversarialFairnessClassifier,
    ExponentiatedGradientClassifier,
)
from keras_sqnn.baselines.vanilla import build_vanilla_classifier, layer_outputs
from keras_sqnn.baselines.vfae import build_vfae
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier, representation_codes
from keras_sqnn.experiments.paper import PAPER_HYPERPARAMETERS
from keras_sqnn.validation import check_positive_int


@runtime_checkable
class Method(Protocol):
    """What the harness needs of a method: one instance is one (method, parameter) setting.

    Attributes:
        name: the method's name in result tables, e.g. ``"adv_cls"``.
        param_name: what ``param`` is: ``"gamma"``, ``"epsilon"`` or ``"alpha"``.
        param: the fairness parameter of this instance.
    """

    name: str
    param_name: str

    @property
    def param(self) -> float: ...

    def fit(self, x: np.ndarray, y: np.ndarray, s: np.ndarray) -> Any:
        """Train on features ``x`` (float32), labels ``y`` and groups ``s`` (int32)."""
        ...

    def predict_proba(self, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Scores P(y=1), shape ``(n,)``; only methods that document it use ``s``."""
        ...

    def representation(self, x: np.ndarray, s: np.ndarray) -> np.ndarray | None:
        """The learnt representation of each row (probed for ADRG), or None if none."""
        ...


@dataclass(frozen=True)
class Budget:
    """Training settings of the neural methods.

    Attributes:
        epochs: training epochs.
        batch_size: batch size; None takes each SQNN's Table 2 batch size (and the
            BinaryBernoulli one for the baselines).
        learning_rate: Adam's learning rate.
    """

    epochs: int
    batch_size: int | None
    learning_rate: float


BUDGETS = {
    # A few minutes for the six default methods on COMPAS on two CPU cores.
    "small": Budget(epochs=20, batch_size=128, learning_rate=1e-3),
    # The paper's Table 2 settings (100 epochs, Adam at 1e-4, its batch sizes).
    "paper": Budget(epochs=100, batch_size=None, learning_rate=1e-4),
}

METHOD_NAMES = (
    "binary_bernoulli",
    "binary_mi",
    "vanilla",
    "adv_cls",
    "vfae",
    "fairlearn_eg",
    "fairlearn_eg_eo",
    "fairlearn_adv",
)
"""Names accepted by :func:`make_method` and ``compare``."""

DEFAULT_PARAMS: dict[str, float] = {
    "vanilla": 0.0,
    "adv_cls": 0.5,
    "vfae": 100.0,
    "fairlearn_eg": 0.01,
    "fairlearn_eg_eo": 0.01,
    "fairlearn_adv": 1.0,
}
"""Default fairness parameter per method; the SQNNs default to their Table 2 gamma."""

_ESTIMATORS = {"binary_bernoulli": "bernoulli", "binary_mi": "joint"}
# Methods whose parameter is a trade-off or a bound in [0, 1]; the others take any value >= 0.
_UNIT_INTERVAL = ("binary_bernoulli", "binary_mi", "adv_cls", "fairlearn_eg", "fairlearn_eg_eo")


def sqnn_config(dataset: str | None, estimator: str) -> SQNNConfig:
    """The paper's Table 2 configuration for ``(dataset, estimator)``, else the defaults."""
    config = PAPER_HYPERPARAMETERS.get((str(dataset), estimator))
    return config if config is not None else SQNNConfig(estimator=estimator)


def default_param(name: str, dataset: str | None = None) -> float:
    """The default fairness parameter of method ``name`` (on ``dataset`` for the SQNNs).

    Example:
        >>> default_param("binary_bernoulli", "compas"), default_param("fairlearn_eg")
        (0.23, 0.01)
    """
    _check_name(name)
    if name in _ESTIMATORS:
        return sqnn_config(dataset, _ESTIMATORS[name]).gamma
    return DEFAULT_PARAMS[name]


def _check_name(name: Any) -> str:
    if name not in METHOD_NAMES:
        raise ValueError(f"Expected a method name in {METHOD_NAMES}. Received: {name!r}")
    return str(name)


class KerasMethod:
    """A Keras model behind the :class:`Method` interface.

    ``fit`` seeds Keras (``keras.utils.set_random_seed(seed)``), builds a fresh compiled
    model with ``build(input_dim)`` and fits it on ``{"features": x, "sensitive": s}``.

    Args:
        name: method name.
        param: fairness parameter.
        build: ``build(input_dim) -> compiled keras.Model``.
        epochs: training epochs.
        batch_size: batch size.
        needs_sensitive: whether prediction takes S too (VFAE).
        representation: ``representation(model, x, s) -> array``.
        param_name: what ``param`` is.
        seed: the seed.
    """

    def __init__(
        self,
        name: str,
        param: float,
        build: Any,
        *,
        epochs: int,
        batch_size: int,
        representation: Any,
        needs_sensitive: bool = False,
        param_name: str = "gamma",
        seed: int = 0,
    ) -> None:
        self.name = name
        self.param_name = param_name
        self._param = float(param)
        self.build = build
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.needs_sensitive = needs_sensitive
        self._representation = representation
        self.seed = seed
        self.model: Any = None
        self.history: Any = None

    @property
    def param(self) -> float:
        return self._param

    def fit(self, x: np.ndarray, y: np.ndarray, s: np.ndarray) -> KerasMethod:
        keras.utils.set_random_seed(self.seed)
        self.model = self.build(int(x.shape[1]))
        self.history = self.model.fit(
            {"features": x, "sensitive": s},
            y,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=True,
            verbose=0,
        )
        return self

    def _inputs(self, x: np.ndarray, s: np.ndarray | None) -> Any:
        if not self.needs_sensitive:
            return x
        if s is None:
            raise ValueError(f"Method {self.name!r} needs `s` at prediction. Received: s=None")
        return {"features": x, "sensitive": s}

    def predict_proba(self, x: np.ndarray, s: np.ndarray | None = None) -> np.ndarray:
        if self.model is None:
            raise ValueError(f"Method {self.name!r} is not fitted yet: call `fit` first.")
        scores = self.model.predict(self._inputs(x, s), batch_size=4096, verbose=0)
        return np.asarray(scores, dtype=np.float64).reshape(len(x))

    def representation(self, x: np.ndarray, s: np.ndarray | None = None) -> np.ndarray:
        if self.model is None:
            raise ValueError(f"Method {self.name!r} is not fitted yet: call `fit` first.")
        return np.asarray(self._representation(self.model, x, s))


def _encoder_output(model: Any, x: np.ndarray, s: Any) -> Any:
    return keras.ops.convert_to_numpy(model.encode(x, training=False))


def _vfae_sample(seed: int) -> Any:
    def representation(model: Any, x: np.ndarray, s: Any) -> Any:
        mean, log_var = (
            keras.ops.convert_to_numpy(value) for value in model.encode(x, s, training=False)
        )
        noise = np.random.default_rng(seed).standard_normal(mean.shape)
        return mean + np.exp(0.5 * log_var) * noise

    return representation


def make_method(
    name: str,
    param: float | None = None,
    *,
    dataset: str | None = None,
    budget: str = "small",
    epochs: int | None = None,
    num_groups: int = 2,
    seed: int = 0,
) -> Method:
    """One method of the comparison, configured for a dataset and a training budget.

    Architectures: the SQNNs use the paper's Table 2 configuration of ``dataset`` (the
    package defaults for other datasets); ``vanilla`` is the BinaryBernoulli network
    without its stochastic layer; ``adv_cls`` and ``fairlearn_adv`` use the same hidden
    layers as encoder / predictor and one hidden layer of that size in the adversary;
    ``vfae`` uses latent codes and one hidden layer of that size. The paper does not report
    its baselines' tuned hyper-parameters, so they train with the SQNNs' settings.

    Budgets: ``"small"`` trains 20 epochs at batch size 128 with Adam at 1e-3;
    ``"paper"`` 100 epochs with Adam at 1e-4 and Table 2's batch sizes. ``epochs``
    overrides the budget's.

    Args:
        name: one of :data:`METHOD_NAMES`.
        param: the fairness parameter (gamma, epsilon or alpha); None takes
            :func:`default_param`.
        dataset: dataset name, for the Table 2 configuration.
        budget: ``"small"`` or ``"paper"``.
        epochs: optional override of the budget's epochs.
        num_groups: number of groups of S.
        seed: seed of the initializers, the sampling and the shuffling.

    Returns:
        An unfitted :class:`Method`.

    Example:
        >>> method = make_method("adv_cls", 0.3, dataset="compas")
        >>> method.name, method.param_name, method.param
        ('adv_cls', 'gamma', 0.3)
    """
    name = _check_name(name)
    if budget not in BUDGETS:
        raise ValueError(f"Expected `budget` in {tuple(BUDGETS)}. Received: budget={budget!r}")
    settings = BUDGETS[budget]
    epochs = settings.epochs if epochs is None else check_positive_int(epochs, "epochs")
    param = default_param(name, dataset) if param is None else float(param)
    upper = 1.0 if name in _UNIT_INTERVAL else math.inf
    if not 0.0 <= param <= upper or math.isinf(param):
        bound = "in [0, 1]" if upper == 1.0 else ">= 0 and finite"
        raise ValueError(
            f"Expected the parameter of {name!r} to be {bound}. Received: param={param}"
        )
    bernoulli = sqnn_config(dataset, "bernoulli")
    batch_size = settings.batch_size or bernoulli.batch_size
    hidden = (bernoulli.hidden_size,) * bernoulli.n_hidden
    lr = settings.learning_rate

    if name in _ESTIMATORS:
        config = sqnn_config(dataset, _ESTIMATORS[name]).replace(
            gamma=param,
            learning_rate=lr,
            epochs=epochs,
            batch_size=settings.batch_size or sqnn_config(dataset, _ESTIMATORS[name]).batch_size,
        )
        return KerasMethod(
            name,
            param,
            lambda d: build_sqnn_classifier(d, config, num_groups=num_groups, seed=seed),
            epochs=epochs,
            batch_size=config.batch_size,
            representation=lambda model, x, s: representation_codes(model, x),
            seed=seed,
        )
    if name == "vanilla":
        if param != 0.0:
            raise ValueError(f"The vanilla network has no fairness parameter. Received: {param}")
        config = bernoulli.replace(learning_rate=lr, epochs=epochs)
        return KerasMethod(
            name,
            0.0,
            lambda d: build_vanilla_classifier(d, config, seed=seed),
            epochs=epochs,
            batch_size=batch_size,
            representation=lambda model, x, s: layer_outputs(model, x),
            seed=seed,
        )
    if name == "adv_cls":
        return KerasMethod(
            name,
            param,
            lambda d: build_adversarial_classifier(
                d,
                gamma=param,
                encoder_units=hidden,
                adversary_units=hidden[:1],
                num_groups=num_groups,
                learning_rate=lr,
                seed=seed,
            ),
            epochs=epochs,
            batch_size=batch_size,
            representation=_encoder_output,
            seed=seed,
        )
    if name == "vfae":
        return KerasMethod(
            name,
            param,
            lambda d: build_vfae(
                d,
                gamma=param,
                latent_dim=bernoulli.hidden_size,
                hidden_units=hidden[:1],
                num_groups=num_groups,
                learning_rate=lr,
                seed=seed,
            ),
            epochs=epochs,
            batch_size=batch_size,
            representation=_vfae_sample(seed),
            needs_sensitive=True,
            seed=seed,
        )
    if name in ("fairlearn_eg", "fairlearn_eg_eo"):
        constraint = "demographic_parity" if name == "fairlearn_eg" else "equalized_odds"
        return ExponentiatedGradientClassifier(param, constraint=constraint, seed=seed)
    return AdversarialFairnessClassifier(
        param,
        hidden_units=hidden,
        adversary_units=hidden[:1],
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        seed=seed,
    )
