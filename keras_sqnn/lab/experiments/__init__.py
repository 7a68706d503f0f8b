"""Comparisons of fair classifiers on the same data, folds and metrics.

`compare(methods, dataset)` trains the SQNNs (`"binary_bernoulli"`, `"binary_mi"`,
`"binary_bernoulli_conditional"`) and the baselines (`"vanilla"`, `"adv_cls"`, `"vfae"`,
`"fairlearn_eg"`, `"fairlearn_eg_eo"`, `"fairlearn_adv"`) on each outer fold of the paper's
nested cross-validation and returns one row per (method, parameter, fold); `summarize`
averages it over folds.

`tune_method(dataset, method, out=..., searches=...)` tunes one method with the paper's
nested Bayesian search, its space declared in `keras_sqnn.lab.experiments.spaces`, selects a
trial (`keras_sqnn.lab.experiments.selection`), and appends one row per outer fold to
`tuned_<dataset>.csv`.

Example:
>>> from keras_sqnn.lab.experiments import compare, summarize
>>> table = compare(["binary_bernoulli", "vanilla"], "compas")  # doctest: +SKIP
"""

from keras_sqnn.lab.experiments.builders import ConstantMethod, KerasMethod, build_method
from keras_sqnn.lab.experiments.harness import COLUMNS, METRICS, compare, score, summarize
from keras_sqnn.lab.experiments.method_search import TUNING_BUDGETS, MethodHyperModel, TuningBudget
from keras_sqnn.lab.experiments.methods import (
    BUDGETS,
    DEFAULT_PARAMS,
    METHOD_NAMES,
    Budget,
    Method,
    default_param,
    make_method,
    sqnn_config,
)
from keras_sqnn.lab.experiments.paper import PAPER_HYPERPARAMETERS
from keras_sqnn.lab.experiments.selection import SELECTION_RULES, TrialRecord, select
from keras_sqnn.lab.experiments.spaces import SPACES, TUNED_METHODS, declare, method_from
from keras_sqnn.lab.experiments.tuned import tune_method
from keras_sqnn.lab.experiments.tuned_schema import CSV_COLUMNS, read_results

__all__ = [
    "BUDGETS",
    "COLUMNS",
    "CSV_COLUMNS",
    "DEFAULT_PARAMS",
    "METHOD_NAMES",
    "METRICS",
    "PAPER_HYPERPARAMETERS",
    "SELECTION_RULES",
    "SPACES",
    "TUNED_METHODS",
    "TUNING_BUDGETS",
    "Budget",
    "ConstantMethod",
    "KerasMethod",
    "Method",
    "MethodHyperModel",
    "TrialRecord",
    "TuningBudget",
    "build_method",
    "compare",
    "declare",
    "default_param",
    "make_method",
    "method_from",
    "read_results",
    "score",
    "select",
    "sqnn_config",
    "summarize",
    "tune_method",
]
