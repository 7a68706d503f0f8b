"""A method of the comparison: the harness' :class:`Method` interface, and how each is built."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any, Protocol, runtime_checkable

import keras
import numpy as np

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier, representation_codes
from keras_sqnn.lab.baselines.adversarial import build_adversarial_classifier
from keras_sqnn.lab.baselines.fairlearn_baselines import (
    AdversarialFairnessClassifier,
    ExponentiatedGradientClassifier,
)
from keras_sqnn.lab.baselines.vanilla import build_vanilla_classifier, layer_outputs
from keras_sqnn.lab.baselines.vfae import build_vfae
from keras_sqnn.validation import check_positive_int

SQNN_METHODS: dict[str, tuple[str, str | None]] = {
    "binary_bernoulli": ("bernoulli", None),
    "binary_mi": ("joint", None),
    "binary_bernoulli_conditional": ("bernoulli", "labels"),
}
"""The SQNN methods: their MI estimator and what their regularizer conditions on."""


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


# The settings each method is built from (`build_method`); "learning_rate" is optional for all.
SETTINGS: dict[str, tuple[str, ...]] = {
    **{
        name: ("gamma", "n_hidden", "hidden_size", "hybrid", "stochastic_position", "batch_size")
        for name in SQNN_METHODS
    },
    "vanilla": ("n_hidden", "hidden_size", "batch_size"),
    "adv_cls": ("gamma", "n_hidden", "hidden_size", "adversary_size", "batch_size"),
    "vfae": ("gamma", "classification_weight", "latent_dim", "hidden_size", "batch_size"),
    "fairlearn_eg": ("epsilon",),
    "fairlearn_eg_eo": ("epsilon",),
    "fairlearn_adv": ("alpha", "n_hidden", "hidden_size", "adversary_size", "batch_size"),
}
"""Per method, the settings :func:`build_method` needs."""

# Settings some methods also take, besides "learning_rate".
_OPTIONAL = {"vanilla": ("hybrid", "stochastic_position")}


def build_method(
    name: str,
    values: Mapping[str, Any],
    *,
    epochs: int,
    learning_rate: float = 1e-3,
    num_groups: int = 2,
    seed: int = 0,
) -> Method:
    """One method built from its settings: a tuned trial's, or :func:`make_method`'s.

    Settings (:data:`SETTINGS`): the SQNNs take Table 2's fields of ``SQNNConfig``;
    ``vanilla`` its sizes (and optionally ``hybrid`` and ``stochastic_position`` of the
    SQNN it mirrors; its representation is the layer in place of the stochastic one);
    ``adv_cls`` its trade-off ``gamma``, an encoder of ``n_hidden`` layers of
    ``hidden_size`` units (the last is the representation) and an adversary with one hidden
    layer of ``adversary_size``; ``vfae`` its MMD weight ``gamma``, its classification
    weight (Louizos et al.'s alpha), ``latent_dim`` and one hidden layer of ``hidden_size``
    in every sub-network; the fairlearn reductions ``epsilon``; fairlearn's adversarial
    method ``alpha`` and the sizes of its predictor and adversary. The neural methods also
    take a ``batch_size``; a ``learning_rate`` among the settings replaces the argument.

    Args:
        name: one of the methods of :data:`SETTINGS`.
        values: the settings.
        epochs: training epochs of the neural methods.
        learning_rate: Adam's learning rate, unless the settings hold one.
        num_groups: number of groups of S.
        seed: seed of the initializers, the sampling and the shuffling.

    Returns:
        An unfitted :class:`Method`.

    Example:
        >>> method = build_method("fairlearn_eg_eo", {"epsilon": 0.05}, epochs=1)
        >>> method.name, method.param
        ('fairlearn_eg_eo', 0.05)
    """
    if name not in SETTINGS:
        raise ValueError(f"Expected a method name in {tuple(SETTINGS)}. Received: {name!r}")
    values = dict(values)
    allowed = {*SETTINGS[name], "learning_rate", *_OPTIONAL.get(name, ())}
    missing = [key for key in SETTINGS[name] if key not in values]
    if missing or set(values) - allowed:
        raise ValueError(
            f"Expected the settings {SETTINGS[name]} of {name!r}, and optionally "
            f"{sorted(allowed - set(SETTINGS[name]))}. Received: values={values}"
        )
    lr = float(values.pop("learning_rate", learning_rate))
    if name in ("fairlearn_eg", "fairlearn_eg_eo"):
        constraint = "demographic_parity" if name == "fairlearn_eg" else "equalized_odds"
        return ExponentiatedGradientClassifier(values["epsilon"], constraint=constraint, seed=seed)
    batch_size = int(values["batch_size"])
    hidden = (int(values["hidden_size"]),) * int(values.get("n_hidden", 1))
    if name == "fairlearn_adv":
        return AdversarialFairnessClassifier(
            values["alpha"],
            hidden_units=hidden,
            adversary_units=(int(values["adversary_size"]),),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=lr,
            seed=seed,
        )
    build: Any
    if name in SQNN_METHODS:
        estimator, condition_on = SQNN_METHODS[name]
        config = SQNNConfig(
            **values,
            estimator=estimator,
            condition_on=condition_on,
            learning_rate=lr,
            epochs=epochs,
        )
        build = partial(build_sqnn_classifier, config=config, num_groups=num_groups, seed=seed)
        representation: Any = lambda model, x, s: representation_codes(model, x)  # noqa: E731
    elif name == "vanilla":
        config = SQNNConfig(**values, learning_rate=lr, epochs=epochs)
        build = partial(build_vanilla_classifier, config=config, seed=seed)
        representation = lambda model, x, s: layer_outputs(model, x)  # noqa: E731
    elif name == "adv_cls":
        build = partial(
            build_adversarial_classifier,
            gamma=values["gamma"],
            encoder_units=hidden,
            adversary_units=(int(values["adversary_size"]),),
            num_groups=num_groups,
            learning_rate=lr,
            seed=seed,
        )
        representation = _encoder_output
    else:
        build = partial(
            build_vfae,
            gamma=values["gamma"],
            latent_dim=int(values["latent_dim"]),
            hidden_units=hidden,
            classification_weight=values["classification_weight"],
            num_groups=num_groups,
            learning_rate=lr,
            seed=seed,
        )
        representation = _vfae_sample(seed)
    return KerasMethod(
        name,
        values.get("gamma", 0.0),
        build,
        epochs=epochs,
        batch_size=batch_size,
        representation=representation,
        needs_sensitive=name == "vfae",
        seed=seed,
    )


class ConstantMethod:
    """The constant score, every table's reference point: AUC 0.5, GPA 0 and AUDC 0.

    It scores every row with the training rows' rate of positives (so its accuracy at
    the 0.5 threshold is the majority class'), and has no representation.

    Args:
        score: the constant; None takes the training rows' rate of positives.

    Example:
        >>> constant = ConstantMethod().fit(np.zeros((4, 1)), np.array([0, 0, 0, 1]), None)
        >>> constant.predict_proba(np.zeros((2, 1))).tolist()
        [0.25, 0.25]
    """

    name = "constant"
    param_name = "score"

    def __init__(self, score: float | None = None) -> None:
        self.score = score

    @property
    def param(self) -> float:
        return math.nan if self.score is None else float(self.score)

    def fit(self, x: np.ndarray, y: np.ndarray, s: Any) -> ConstantMethod:
        if self.score is None:
            self.score = float(np.mean(np.asarray(y) == 1))
        return self

    def predict_proba(self, x: np.ndarray, s: Any = None) -> np.ndarray:
        if self.score is None:
            raise ValueError("The constant method is not fitted yet: call `fit` first.")
        return np.full(len(x), self.score, dtype=np.float64)

    def representation(self, x: np.ndarray, s: Any = None) -> None:
        return None
