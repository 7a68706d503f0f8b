"""keras_sqnn: fair and invariant representations with stochastically quantized networks.

A stochastic binary layer outputs T ~ Bernoulli(sigmoid(z)); because T is discrete, its
mutual information with a sensitive attribute S is finite and computable, and can be
minimised during training (Cerrato et al., AAAI 2022).
"""

import keras as _keras

if _keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the environment
    raise ImportError(
        "keras_sqnn needs the TensorFlow backend of Keras (it uses tf.custom_gradient, "
        "tf.distribute and SavedModel). Set KERAS_BACKEND=tensorflow. Received: "
        f"KERAS_BACKEND={_keras.backend.backend()!r}"
    )

from keras_sqnn import estimators, information, layers, losses, models  # noqa: E402
from keras_sqnn.export import export_serving  # noqa: E402
from keras_sqnn.groups import encode_groups  # noqa: E402
from keras_sqnn.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "encode_groups",
    "estimators",
    "export_serving",
    "information",
    "layers",
    "losses",
    "models",
]


def __getattr__(name: str) -> object:
    # `keras_sqnn.baselines` without importing it, as before the lab moved (deprecated: the
    # alias warns). Importing keras_sqnn no longer loads the baselines.
    if name == "baselines":
        import keras_sqnn.baselines

        return keras_sqnn.baselines
    raise AttributeError(f"module 'keras_sqnn' has no attribute {name!r}")
