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

from keras_sqnn import baselines, estimators, information, layers, losses, models  # noqa: E402
from keras_sqnn.export import export_serving  # noqa: E402
from keras_sqnn.groups import encode_groups  # noqa: E402
from keras_sqnn.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "baselines",
    "encode_groups",
    "estimators",
    "export_serving",
    "information",
    "layers",
    "losses",
    "models",
]
