"""Load each file of a list in this (child) process and report how it went, as JSON.

``python -m tests.robustness.load_probe REQUESTS_JSON OUT_JSON``: ``REQUESTS_JSON`` is a list
of ``[kind, path]`` with kind ``"keras"`` (``keras.models.load_model``, safe mode) or
``"saved_model"`` (``tf.saved_model.load`` then one ``serve`` call). ``OUT_JSON`` receives,
per path, ``{"loaded": bool, "type": exception class, "tf_op_error": bool, "message": ...}``.
Run in a child so that a crash of a native reader (HDF5, protobuf) cannot take the test
process down: the parent sees a non-zero exit status instead.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load(kind: str, path: str) -> None:
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_sqnn  # noqa: F401  (registers the package's classes)

    if kind == "keras":
        model = keras.models.load_model(path, safe_mode=True)
        model.predict(np.zeros((2, 4), "float32"), verbose=0)
    elif kind == "saved_model":
        loaded = tf.saved_model.load(path)  # held: serve() needs its variables alive
        loaded.serve(tf.zeros((2, 4)))
    else:
        raise AssertionError(kind)


def _tf_op_error() -> type:
    import tensorflow as tf

    return tf.errors.OpError


def main(requests_path: str, out_path: str) -> None:
    with open(requests_path) as handle:
        requests = json.load(handle)
    results = {}
    for kind, path in requests:
        try:
            _load(kind, path)
            results[path] = {"loaded": True}
        except Exception as error:  # noqa: BLE001 - reporting every failure is the point
            results[path] = {
                "loaded": False,
                "type": type(error).__name__,
                "tf_op_error": isinstance(error, _tf_op_error()),
                "message": str(error)[:2000],
            }
    with open(out_path, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
