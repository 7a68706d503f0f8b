"""The paper's hyper-parameters: the best SQNN configuration per dataset and estimator."""

from __future__ import annotations

from keras_sqnn.classifiers import SQNNConfig

PAPER_HYPERPARAMETERS: dict[tuple[str, str], SQNNConfig] = {
    ("compas", "joint"): SQNNConfig(0.16, "joint", 2, 10, batch_size=242),
    ("compas", "bernoulli"): SQNNConfig(0.23, "bernoulli", 3, 20, batch_size=175),
    ("banks", "joint"): SQNNConfig(0.03, "joint", 5, 40, batch_size=153),
    ("banks", "bernoulli"): SQNNConfig(0.60, "bernoulli", 1, 30, batch_size=240),
    ("adult", "joint"): SQNNConfig(0.01, "joint", 4, 50, batch_size=228),
    ("adult", "bernoulli"): SQNNConfig(0.04, "bernoulli", 3, 50, batch_size=225),
}
"""Table 2 of Cerrato et al. (AAAI 2022), keyed by ``(dataset, estimator)``.

Learning rate 1e-4 (Adam) and 100 epochs throughout, the defaults of
:class:`~keras_sqnn.classifiers.SQNNConfig`.

Example:
    >>> PAPER_HYPERPARAMETERS[("compas", "bernoulli")].gamma
    0.23
"""

__all__ = ["PAPER_HYPERPARAMETERS"]
