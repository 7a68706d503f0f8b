"""Baselines for fair classification, trained and scored like the SQNNs.

- `build_vanilla_classifier`: the SQNN classifier without the stochastic layer and without
  a fairness term (the vanilla CNN of the Biased-MNIST experiment is
  `keras_sqnn.lab.experiments.biased_mnist.build_mnist_classifier("vanilla")`).
- `AdversarialClassifier` (`build_adversarial_classifier`): AdvCls (Xie et al. 2017), an
  adversary predicting S through a `GradientReversal` layer.
- `VariationalFairAutoencoder` (`build_vfae`): the VFAE (Louizos et al. 2016) with its MMD
  penalty (`group_mmd`).
- `ExponentiatedGradientClassifier`, `AdversarialFairnessClassifier`: fairlearn's
  reduction and adversarial methods (optional extra `keras_sqnn[fairlearn]`).

The Keras models take `{"features": x, "sensitive": s}` in `fit`, are registered for
saving, and reload from `.keras` files with `safe_mode=True`.
"""

from keras_sqnn.lab.baselines.adversarial import AdversarialClassifier, build_adversarial_classifier
from keras_sqnn.lab.baselines.fairlearn_baselines import (
    AdversarialFairnessClassifier,
    ExponentiatedGradientClassifier,
)
from keras_sqnn.lab.baselines.gradient_reversal import GradientReversal, reverse_gradient
from keras_sqnn.lab.baselines.mmd import group_mmd, rbf_kernel
from keras_sqnn.lab.baselines.vanilla import build_vanilla_classifier, layer_outputs
from keras_sqnn.lab.baselines.vfae import VariationalFairAutoencoder, build_vfae

__all__ = [
    "AdversarialClassifier",
    "AdversarialFairnessClassifier",
    "ExponentiatedGradientClassifier",
    "GradientReversal",
    "VariationalFairAutoencoder",
    "build_adversarial_classifier",
    "build_vanilla_classifier",
    "build_vfae",
    "group_mmd",
    "layer_outputs",
    "rbf_kernel",
    "reverse_gradient",
]
