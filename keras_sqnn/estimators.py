"""Mutual-information estimators usable as a layer's regularizer, selectable by name.

Thin Keras-side wrappers around :mod:`keras_sqnn.information`. Each estimator maps a batch of
Bernoulli parameters ``theta`` (``(batch, units)``, float32), the sampled codes and the
sensitive attribute to ``I(T; S)`` in bits. Under a ``tf.distribute`` strategy the estimate is
that of the **global** batch: the sufficient statistics are summed (or the reference batch
gathered) across replicas before any entropy is taken, so the loss and its gradient equal
those of a single device holding the whole batch.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from keras import ops

from keras_sqnn import information
from keras_sqnn.api_export import keras_sqnn_export


def _cross_replica_context() -> Any:
    """The replica context when running on more than one replica, else None."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync <= 1:
        return None
    return context


def _sum_over_replicas(*values: Any) -> list[Any]:
    context = _cross_replica_context()
    if context is None:
        return list(values)
    return list(context.all_reduce(tf.distribute.ReduceOp.SUM, list(values)))


class MutualInformationEstimator:
    """Base class: ``estimator(theta, codes, sensitive, num_groups, logits=None)`` returns bits.

    ``logits`` are the pre-activations with ``theta = sigmoid(logits)`` when the caller has
    them (a layer does): estimators that work with log-likelihoods use them instead of
    ``theta``, which rounds to exactly 0 or 1 for large ``|logits|``.
    """

    #: The name this estimator is selected by in a layer's ``mi_estimator`` argument.
    name: str = ""

    def __call__(
        self, theta: Any, codes: Any, sensitive: Any, num_groups: int, logits: Any = None
    ) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MutualInformationEstimator:
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


@keras_sqnn_export
class BernoulliMutualInformation(MutualInformationEstimator):
    """The paper's ``BinaryBernoulli`` term ``sum_i I(T_i; S)`` (closed form, cheap).

    A surrogate, **not** an upper bound on the joint ``I(T; S)`` in general: units that are
    dependent given S can carry information jointly that no single unit carries
    (``S = T1 XOR T2`` gives 0 here and 1 bit jointly). Use :class:`JointMutualInformation`
    when that matters.
    """

    name = "bernoulli"

    def __call__(
        self, theta: Any, codes: Any, sensitive: Any, num_groups: int, logits: Any = None
    ) -> Any:
        del codes, logits
        counts, sums = information.group_sums(theta, sensitive, num_groups)
        counts, sums = _sum_over_replicas(counts, sums)
        return information.bernoulli_mutual_information_from_sums(counts, sums)


@keras_sqnn_export
class JointMutualInformation(MutualInformationEstimator):
    """Joint ``I(T; S)`` of the whole layer (``BinaryMI``), differentiable.

    Exact enumeration of the ``2**units`` codes for layers of at most ``max_exact_units``
    units; above that the unbiased Monte-Carlo estimate from the codes sampled in the batch
    (see :func:`keras_sqnn.information.sampled_joint_mutual_information`), whose gradient
    reaches ``theta`` through the mixture densities and, straight-through, the codes.

    Args:
        max_exact_units: widest layer whose codes are enumerated (cost ``batch * 2**units``).
    """

    name = "joint"

    def __init__(self, max_exact_units: int = information.DEFAULT_MAX_EXACT_UNITS) -> None:
        if not isinstance(max_exact_units, int) or not 0 <= max_exact_units <= 20:
            raise ValueError(
                "Expected `max_exact_units` to be an integer in [0, 20]. "
                f"Received: max_exact_units={max_exact_units!r}"
            )
        self.max_exact_units = max_exact_units

    def __call__(
        self, theta: Any, codes: Any, sensitive: Any, num_groups: int, logits: Any = None
    ) -> Any:
        if theta.shape[-1] <= self.max_exact_units:
            probabilities = information.code_probabilities(theta)
            counts, sums = information.group_sums(probabilities, sensitive, num_groups)
            counts, sums = _sum_over_replicas(counts, sums)
            return information.exact_joint_mutual_information_from_sums(counts, sums)
        # From the logits when the caller has them (the layers): exact where theta rounds
        # to 0 or 1, and a narrower backward matmul.
        local = theta if logits is None else logits
        context = _cross_replica_context()
        if context is None:
            references, reference_ids, own = local, sensitive, None
        else:
            references = context.all_gather(local, axis=0)
            reference_ids = context.all_gather(sensitive, axis=0)
            own = local  # the codes' own examples, for the scale of the exponentials
        if logits is None:
            total = information.sampled_joint_total_from_theta(
                codes, sensitive, references, reference_ids, num_groups, code_theta=own
            )
        else:
            total = information.sampled_joint_total(
                codes, sensitive, references, reference_ids, num_groups, code_logits=own
            )
        total, count = _sum_over_replicas(total, ops.cast(ops.shape(codes)[0], "float32"))
        # An empty (global) batch carries no information: 0, as the other estimators give.
        return total / ops.maximum(count, 1.0)

    def get_config(self) -> dict[str, Any]:
        return {"max_exact_units": self.max_exact_units}


_BY_NAME: dict[str, type[MutualInformationEstimator]] = {
    BernoulliMutualInformation.name: BernoulliMutualInformation,
    JointMutualInformation.name: JointMutualInformation,
}


def get(identifier: Any) -> MutualInformationEstimator | None:
    """Resolve ``mi_estimator``: None, a name ("bernoulli", "joint"), a config or an instance."""
    if identifier is None or isinstance(identifier, MutualInformationEstimator):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"Expected `mi_estimator` to be one of None, {sorted(_BY_NAME)} or a "
        f"MutualInformationEstimator. Received: mi_estimator={identifier!r}"
    )


def serialize(estimator: MutualInformationEstimator | None) -> Any:
    """A JSON-friendly form of an estimator: its name when it has default settings."""
    if estimator is None:
        return None
    if not estimator.get_config() or estimator.get_config() == type(estimator)().get_config():
        return estimator.name
    return {"class_name": type(estimator).__name__, "config": estimator.get_config()}


def deserialize(config: Any) -> MutualInformationEstimator | None:
    """Inverse of :func:`serialize`."""
    if config is None or isinstance(config, str):
        return get(config)
    classes = {cls.__name__: cls for cls in _BY_NAME.values()}
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name not in classes:
        raise ValueError(
            f"Expected `mi_estimator` config naming one of {sorted(classes)}. "
            f"Received: mi_estimator={config!r}"
        )
    return classes[class_name].from_config(config.get("config", {}))
