"""In-place updates of Keras variables in one TensorFlow op where that is safe.

Keras' ``Variable.assign_add`` reads, adds and assigns (three ops, two of them on the
variable); TensorFlow's ``assign_add`` is one op. A stochastic layer updates its seed state and
its MI metric every training step, where each variable op costs a few microseconds of
executor time. The one-op form is used only where it means the same thing: outside a Keras
stateless scope (which must record the update instead of applying it) and outside the
cross-replica context of a distribution strategy (where a sync-on-read variable accepts only
Keras' ``assign``).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

try:  # Keras internals; without them every update takes Keras' own path.
    from keras.src.backend.common.stateless_scope import in_stateless_scope
except ImportError:  # pragma: no cover - depends on the Keras version

    def in_stateless_scope() -> bool:
        return True


def tensorflow_variable(variable: Any) -> Any:
    """The ``tf.Variable`` behind a Keras variable when one op may update it, else None."""
    if in_stateless_scope():
        return None
    if tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context():
        return None
    target = variable.value
    return target if isinstance(target, tf.Variable) else None


def assign_add(variable: Any, increment: Any) -> None:
    """``variable += increment`` for a Keras variable, in one op where that is safe."""
    target = tensorflow_variable(variable)
    if target is None:
        variable.assign_add(increment)
    else:
        target.assign_add(tf.cast(increment, target.dtype), read_value=False)
