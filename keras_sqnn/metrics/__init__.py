"""Fairness metrics, representation probes and a one-call evaluation for binary classifiers.

Metrics follow fairlearn's signature `f(y_true, y_score, *, sensitive_features)` and are
pure NumPy/scikit-learn functions:

- `auc`: ROC AUC (scikit-learn's);
- `group_pairwise_accuracy_difference` (alias `gpa`) and `pairwise_accuracy`:
  disparate mistreatment (Narasimhan et al. 2020);
- `area_under_discrimination_curve` (alias `audc`) and `discrimination_curve`:
  disparate impact over decision thresholds;
- `representation_probe` and `adrg`: how well a random forest recovers S (and Y) from a
  representation;
- `tradeoff_distance` and `equal_tradeoff_line`: the paper's model-selection rule;
- `evaluate_fairness`: all of the above for a trained Keras model.
"""

from keras_sqnn.metrics.evaluate import (
    evaluate_fairness,
    extract_representation,
    find_representation_layer,
)
from keras_sqnn.metrics.fairness import (
    DEFAULT_NUM_THRESHOLDS,
    area_under_discrimination_curve,
    auc,
    audc,
    discrimination_curve,
    equal_tradeoff_line,
    gpa,
    group_pairwise_accuracy_difference,
    pairwise_accuracy,
    tradeoff_distance,
)
from keras_sqnn.metrics.probes import RepresentationProbeResult, adrg, representation_probe

__all__ = [
    "DEFAULT_NUM_THRESHOLDS",
    "RepresentationProbeResult",
    "adrg",
    "area_under_discrimination_curve",
    "auc",
    "audc",
    "discrimination_curve",
    "equal_tradeoff_line",
    "evaluate_fairness",
    "extract_representation",
    "find_representation_layer",
    "gpa",
    "group_pairwise_accuracy_difference",
    "pairwise_accuracy",
    "representation_probe",
    "tradeoff_distance",
]

from keras_sqnn.metrics.information_probe import (  # noqa: E402
    REPORT_COLUMNS,
    information_report,
    layer_probabilities,
    mixture_mutual_information,
    plugin_entropy,
    plugin_mutual_information,
    sample_codes,
    stochastic_layers,
)

__all__ += [
    "REPORT_COLUMNS",
    "information_report",
    "layer_probabilities",
    "mixture_mutual_information",
    "plugin_entropy",
    "plugin_mutual_information",
    "sample_codes",
    "stochastic_layers",
]
