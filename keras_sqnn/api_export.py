"""One decorator that puts an object in the public API and registers it for saving."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import keras

PACKAGE = "keras_sqnn"

T = TypeVar("T")


def keras_sqnn_export(obj: T) -> T:
    """Register `obj` for Keras serialization under the name `keras_sqnn>ClassName`.

    Loading a saved model that contains the object then needs no `custom_objects`
    once `keras_sqnn` has been imported, and works with `safe_mode=True`.
    """
    register: Callable[[T], T] = keras.saving.register_keras_serializable(package=PACKAGE)
    return register(obj)
