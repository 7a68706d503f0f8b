"""Every tuned method's search space, declared in one place.

A space is a function ``space(hp) -> dict``: it declares its hyper-parameters on a
``keras_tuner.HyperParameters`` (on first use; afterwards it reads the trial's values)
and returns the method's settings, from which
:func:`keras_sqnn.lab.experiments.builders.build_method` builds the method. :func:`declare`
and :func:`method_from` look a space up by method name.

* ``binary_bernoulli``, ``binary_mi``, ``binary_bernoulli_conditional``: the paper's
  Table 2 (:func:`keras_sqnn.tuning.sqnn_space`, also importable from here): gamma
  log-uniform in 1e-3..1, 1-5 hidden layers of 10-50 units, hybrid or fully binary, the
  position of the stochastic layer, batch size 64-256; the MI estimator is the method's,
  the learning rate the budget's.
* ``vanilla``: 1-5 hidden layers of 10-50 units, learning rate, batch size.
* ``adv_cls``: adversary weight gamma log-uniform in 1e-3..0.99, the encoder (1-5 layers
  of 10-50 units), the adversary's hidden layer (10-50 units), learning rate, batch size.
* ``vfae``: MMD weight log-uniform in 1..1000, classification weight (Louizos et al.'s
  alpha, the issue's beta) log-uniform in 1..1000, latent size 10-50, hidden size 10-50,
  learning rate, batch size.
* ``fairlearn_eg``, ``fairlearn_eg_eo``: epsilon log-uniform in 1e-3..0.2, under
  demographic parity and equalized odds respectively.
* ``fairlearn_adv``: alpha log-uniform in 1e-2..1e2, the predictor (1-5 layers of 10-50
  units), the adversary's hidden layer (10-50 units), learning rate, batch size.

The baselines' learning rates are searched log-uniformly in 1e-4..1e-2; the SQNNs', as
in the paper, are fixed by the budget.

AdvCls' gamma weighs ``(1 - gamma) L_Y - gamma L_S`` as the SQNNs' gamma weighs
``(1 - gamma) BCE + gamma MI``, so its range is theirs, log-uniform from 1e-3, where
small weights already trade a little AUC for fairness; it stops at 0.99 because at 1 the
classification term vanishes.

ExponentiatedGradient's constraint is covered by tuning the two constraints as two
methods, ``fairlearn_eg`` (demographic parity) and ``fairlearn_eg_eo`` (equalized odds),
each with its own epsilon search, so that both tuned points appear in the results.

``stochastic_position`` is the one conditional parameter: a position past the last hidden
layer means the last one (it is clamped to ``n_hidden - 1``), as in
:class:`keras_sqnn.tuning.SQNNHyperModel`, which reads the same ``sqnn_space``.

Example:
    >>> import keras_tuner as kt
    >>> hp = kt.HyperParameters()
    >>> declare("fairlearn_eg", hp)
    {'epsilon': 0.01}
    >>> method_from("fairlearn_eg", hp, epochs=1).param
    0.01
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras_tuner as kt

from keras_sqnn.lab.experiments.builders import SQNN_METHODS, Method, build_method
from keras_sqnn.lab.experiments.tuned_schema import TUNED_METHODS
from keras_sqnn.tuning import declare_batch_size, sqnn_space

__all__ = [
    "SPACES",
    "TUNED_METHODS",
    "adv_cls_space",
    "declare",
    "epsilon_space",
    "fairlearn_adv_space",
    "method_from",
    "sqnn_space",
    "vanilla_space",
    "vfae_space",
]

Space = Callable[[kt.HyperParameters], dict[str, Any]]


def _sizes(hp: kt.HyperParameters) -> dict[str, int]:
    return {
        "n_hidden": hp.Int("n_hidden", 1, 5, default=3),
        "hidden_size": hp.Int("hidden_size", 10, 50, default=30),
    }


def _training(hp: kt.HyperParameters) -> dict[str, Any]:
    return {
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3),
        "batch_size": declare_batch_size(hp),
    }


def vanilla_space(hp: kt.HyperParameters) -> dict[str, Any]:
    """The vanilla network: its sizes, learning rate and batch size."""
    return {**_sizes(hp), **_training(hp)}


def adv_cls_space(hp: kt.HyperParameters) -> dict[str, Any]:
    """AdvCls: adversary weight gamma, encoder and adversary sizes, learning rate, batch size."""
    gamma = hp.Float("gamma", 1e-3, 0.99, sampling="log", default=0.5)
    adversary = hp.Int("adversary_size", 10, 50, default=30)
    return {"gamma": gamma, **_sizes(hp), "adversary_size": adversary, **_training(hp)}


def vfae_space(hp: kt.HyperParameters) -> dict[str, Any]:
    """VFAE: MMD and classification weights, latent and hidden sizes, learning rate, batch."""
    return {
        "gamma": hp.Float("gamma", 1.0, 1000.0, sampling="log", default=100.0),
        "classification_weight": hp.Float(
            "classification_weight", 1.0, 1000.0, sampling="log", default=100.0
        ),
        "latent_dim": hp.Int("latent_dim", 10, 50, default=30),
        "hidden_size": hp.Int("hidden_size", 10, 50, default=30),
        **_training(hp),
    }


def epsilon_space(hp: kt.HyperParameters) -> dict[str, Any]:
    """ExponentiatedGradient: the allowed constraint violation epsilon."""
    return {"epsilon": hp.Float("epsilon", 1e-3, 0.2, sampling="log", default=0.01)}


def fairlearn_adv_space(hp: kt.HyperParameters) -> dict[str, Any]:
    """fairlearn's adversarial method: alpha, predictor and adversary sizes, training."""
    alpha = hp.Float("alpha", 1e-2, 1e2, sampling="log", default=1.0)
    adversary = hp.Int("adversary_size", 10, 50, default=30)
    return {"alpha": alpha, **_sizes(hp), "adversary_size": adversary, **_training(hp)}


SPACES: dict[str, Space] = {
    **{name: sqnn_space for name in SQNN_METHODS},
    "vanilla": vanilla_space,
    "adv_cls": adv_cls_space,
    "vfae": vfae_space,
    "fairlearn_eg": epsilon_space,
    "fairlearn_eg_eo": epsilon_space,
    "fairlearn_adv": fairlearn_adv_space,
}
"""The space of every tunable method."""


def declare(method: str, hp: kt.HyperParameters) -> dict[str, Any]:
    """Declare (on first use) and read ``method``'s hyper-parameters: its settings.

    Raises:
        ValueError: for a method without a space.
    """
    if method not in SPACES:
        raise ValueError(
            f"Expected a method with a search space, one of {tuple(SPACES)}. "
            f"Received: method={method!r}"
        )
    return SPACES[method](hp)


def method_from(
    method: str,
    hp: kt.HyperParameters | Mapping[str, Any],
    *,
    epochs: int,
    learning_rate: float = 1e-3,
    num_groups: int = 2,
    seed: int = 0,
) -> Method:
    """The unfitted method of a trial (its ``hp``) or of settings read before (a mapping).

    Args:
        method: a method of :data:`SPACES`.
        hp: the trial's hyper-parameters, or the settings :func:`declare` returned.
        epochs: training epochs of the neural methods.
        learning_rate: Adam's learning rate where the space does not search it (SQNNs).
        num_groups: number of groups of S.
        seed: seed of the initializers, the sampling and the shuffling.
    """
    values = declare(method, hp) if isinstance(hp, kt.HyperParameters) else dict(hp)
    return build_method(
        method,
        values,
        epochs=epochs,
        learning_rate=learning_rate,
        num_groups=num_groups,
        seed=seed,
    )
