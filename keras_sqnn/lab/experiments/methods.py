"""Every method of the comparison behind one interface: ``fit(x, y, s)``, scores, representation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from keras_sqnn.classifiers import SQNNConfig
from keras_sqnn.lab.experiments.builders import (
    SQNN_METHODS,
    ConstantMethod,
    KerasMethod,
    Method,
    build_method,
)
from keras_sqnn.lab.experiments.paper import PAPER_HYPERPARAMETERS
from keras_sqnn.lab.experiments.tuned_schema import SEARCHED_METHODS
from keras_sqnn.validation import check_positive_int

__all__ = [
    "BUDGETS",
    "DEFAULT_PARAMS",
    "METHOD_NAMES",
    "Budget",
    "ConstantMethod",
    "KerasMethod",
    "Method",
    "build_method",
    "default_param",
    "make_method",
    "sqnn_config",
]


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

METHOD_NAMES = SEARCHED_METHODS
"""Names accepted by :func:`make_method` and ``compare``: every method with a search space.

``binary_bernoulli_conditional`` is BinaryBernoulli regularizing ``I(T; S | Y)``
(``SQNNConfig(condition_on="labels")``, separation) instead of ``I(T; S)``.
"""

DEFAULT_PARAMS: dict[str, float] = {
    "vanilla": 0.0,
    "adv_cls": 0.5,
    "vfae": 100.0,
    "fairlearn_eg": 0.01,
    "fairlearn_eg_eo": 0.01,
    "fairlearn_adv": 1.0,
}
"""Default fairness parameter per method; the SQNNs default to their Table 2 gamma."""

# Methods whose parameter is a trade-off or a bound in [0, 1]; the others take any value >= 0.
_UNIT_INTERVAL = (*SQNN_METHODS, "adv_cls", "fairlearn_eg", "fairlearn_eg_eo")


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
    if name in SQNN_METHODS:
        return sqnn_config(dataset, SQNN_METHODS[name][0]).gamma
    return DEFAULT_PARAMS[name]


def _check_name(name: Any) -> str:
    if name not in METHOD_NAMES:
        raise ValueError(f"Expected a method name in {METHOD_NAMES}. Received: {name!r}")
    return str(name)


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
    package defaults for other datasets; ``binary_bernoulli_conditional`` BinaryBernoulli's);
    ``vanilla`` is the BinaryBernoulli network without its stochastic layer; ``adv_cls``
    and ``fairlearn_adv`` use the same hidden layers as encoder / predictor and one hidden
    layer of that size in the adversary; ``vfae`` uses latent codes and one hidden layer of
    that size, and a classification weight of 100. The paper does not report its
    baselines' tuned hyper-parameters, so they train with the SQNNs' settings.

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
    if name == "vanilla" and param != 0.0:
        raise ValueError(f"The vanilla network has no fairness parameter. Received: {param}")
    config = sqnn_config(dataset, SQNN_METHODS[name][0] if name in SQNN_METHODS else "bernoulli")
    batch_size = settings.batch_size or config.batch_size
    sizes = {"n_hidden": config.n_hidden, "hidden_size": config.hidden_size}
    layout = {"hybrid": config.hybrid, "stochastic_position": config.stochastic_position}
    values: dict[str, Any]
    if name in SQNN_METHODS:
        values = {"gamma": param, **sizes, **layout}
    elif name == "vanilla":
        values = {**sizes, **layout}
    elif name in ("adv_cls", "fairlearn_adv"):
        values = {"gamma" if name == "adv_cls" else "alpha": param, **sizes}
        values["adversary_size"] = config.hidden_size
    elif name == "vfae":
        values = {"gamma": param, "classification_weight": 100.0, "latent_dim": config.hidden_size}
        values["hidden_size"] = config.hidden_size
    else:
        values = {"epsilon": param}
    if name not in ("fairlearn_eg", "fairlearn_eg_eo"):
        values["batch_size"] = batch_size
    return build_method(
        name,
        values,
        epochs=epochs,
        learning_rate=settings.learning_rate,
        num_groups=num_groups,
        seed=seed,
    )
