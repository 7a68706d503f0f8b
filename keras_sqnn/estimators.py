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

import keras
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


@keras_sqnn_export
class MutualInformationEstimator:
    """Base class: ``estimator(theta, codes, sensitive, num_groups, logits=None)`` returns bits.

    ``logits`` are the pre-activations with ``theta = sigmoid(logits)`` when the caller has
    them (a layer does): estimators that work with log-likelihoods use them instead of
    ``theta``, which rounds to exactly 0 or 1 for large ``|logits|``.

    To use your own estimator, subclass this, implement ``__call__`` (and ``get_config`` if
    the constructor takes arguments), and register the subclass with
    ``keras.saving.register_keras_serializable``: a model whose layer uses it then saves and
    loads with ``keras.saving.load_model(path, safe_mode=True)``.

    Example:
        >>> import keras
        >>> @keras.saving.register_keras_serializable(package="my_project")
        ... class ScaledBernoulli(BernoulliMutualInformation):
        ...     def __init__(self, scale=1.0):
        ...         self.scale = scale
        ...     def __call__(self, theta, codes, sensitive, num_groups, logits=None):
        ...         return self.scale * super().__call__(theta, codes, sensitive, num_groups)
        ...     def get_config(self):
        ...         return {"scale": self.scale}
        >>> deserialize(serialize(ScaledBernoulli(scale=2.0)))
        ScaledBernoulli(scale=2.0)
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


def serialize(estimator: MutualInformationEstimator | None) -> Any:
    """Keras' serialized form of an estimator (``keras.saving.serialize_keras_object``)."""
    return keras.saving.serialize_keras_object(estimator)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of :func:`serialize`; also takes a name ("bernoulli", "joint").

    A user's subclass of :class:`MutualInformationEstimator` deserializes when it is
    registered with ``keras.saving.register_keras_serializable`` or passed in
    ``custom_objects``.
    """
    if isinstance(config, str) and config in _BY_NAME:
        return _BY_NAME[config]()
    return keras.saving.deserialize_keras_object(
        config,
        module_objects={cls.__name__: cls for cls in _BY_NAME.values()},
        custom_objects=custom_objects,
        printable_module_name="mutual-information estimator",
    )


def get(identifier: Any) -> MutualInformationEstimator | None:
    """Resolve ``mi_estimator``: None, a name ("bernoulli", "joint"), a config or an instance."""
    if identifier is None or isinstance(identifier, MutualInformationEstimator):
        return identifier
    if isinstance(identifier, str | dict):
        try:
            estimator = deserialize(identifier)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Expected `mi_estimator` to be one of None, {sorted(_BY_NAME)}, a "
                "MutualInformationEstimator or its serialized config. "
                f"Received: mi_estimator={identifier!r} ({error})"
            ) from None
        if isinstance(estimator, MutualInformationEstimator):
            return estimator
    raise ValueError(
        f"Expected `mi_estimator` to be one of None, {sorted(_BY_NAME)} or a "
        f"MutualInformationEstimator. Received: mi_estimator={identifier!r}"
    )
