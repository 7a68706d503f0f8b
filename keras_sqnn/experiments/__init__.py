"""Comparisons of fair classifiers on the same data, folds and metrics.

`compare(methods, dataset)` trains the SQNNs (`"binary_bernoulli"`, `"binary_mi"`) and the
baselines (`"vanilla"`, `"adv_cls"`, `"vfae"`, `"fairlearn_eg"`, `"fairlearn_eg_eo"`,
`"fairlearn_adv"`) on each outer fold of the paper's nested cross-validation and returns
one row per (method, parameter, fold); `summarize` averages it over folds.

Example:
>>> from keras_sqnn.experiments import compare, summarize
>>> table = compare(["binary_bernoulli", "vanilla"], "compas")  # doctest: +SKIP
"""

from keras_sqnn.experiments.harness import COLUMNS, METRICS, compare, score, summarize
from keras_sqnn.experiments.methods import (
    BUDGETS,
    DEFAULT_PARAMS,
    METHOD_NAMES,
    Budget,
    KerasMethod,
    Method,
    default_param,
    make_method,
    sqnn_config,
)
from keras_sqnn.experiments.paper import PAPER_HYPERPARAMETERS

__all__ = [
    "BUDGETS",
    "COLUMNS",
    "DEFAULT_PARAMS",
    "METHOD_NAMES",
    "METRICS",
    "PAPER_HYPERPARAMETERS",
    "Budget",
    "KerasMethod",
    "Method",
    "compare",
    "default_param",
    "make_method",
    "score",
    "sqnn_config",
    "summarize",
]
