"""Fairness metrics, representation probes and information estimates for binary classifiers.

Metrics follow fairlearn's signature `f(y_true, y_score, *, sensitive_features)`; all but
the model-level calls are pure NumPy/scikit-learn functions. The package holds:

- `auc`, `group_pairwise_accuracy_difference` (alias `gpa`), `pairwise_accuracy`,
  `worst_group_pair`, `pairwise_accuracy_table` (module `fairness`): accuracy, disparate
  mistreatment, and which pair of groups (or of intersections of several attributes, S of
  shape `(n, k)`) is worst;
- `area_under_discrimination_curve` (alias `audc`), `discrimination_curve`,
  `DEFAULT_NUM_THRESHOLDS` (module `discrimination`): disparate impact over thresholds;
- `tradeoff_distance`, `equal_tradeoff_line` (module `tradeoff`): the paper's
  model-selection rule;
- `representation_probe`, `adrg`, `RepresentationProbeResult` (module `probes`): how well
  a random forest recovers S (and Y) from a representation;
- `evaluate_fairness`, `extract_representation`, `find_representation_layer` (module
  `evaluate`): all of the above for a trained Keras model in one call;
- `certify`, `certify_probabilities`, `Certificate` (module `certificate`): an upper
  confidence bound on the demographic-parity (and equalized-odds) gap of *any* classifier
  of a sampled or thresholded binary code; `fare_tv_bound` (module `fare`), FARE's bound
  on the same statement, for comparison;
- `plugin_entropy`, `plugin_mutual_information`, `sample_codes`,
  `mixture_mutual_information` (module `information_estimates`): information of binary
  codes about integer labels, in bits, from NumPy arrays;
- `information_report`, `layer_probabilities`, `REPORT_COLUMNS` (module
  `information_probe`): per stochastic layer of a trained model, `I(T; S)`, `I(T; Y)` and
  `H(T)` from repeated samples; the inputs it feeds the model (features and S, checked
  against the layers' `num_groups`) come from module `model_inputs`.
"""

from keras_sqnn.metrics.certificate import Certificate, certify, certify_probabilities
from keras_sqnn.metrics.discrimination import (
    DEFAULT_NUM_THRESHOLDS,
    area_under_discrimination_curve,
    audc,
    discrimination_curve,
)
from keras_sqnn.metrics.evaluate import (
    evaluate_fairness,
    extract_representation,
    find_representation_layer,
)
from keras_sqnn.metrics.fairness import (
    auc,
    gpa,
    group_pairwise_accuracy_difference,
    pairwise_accuracy,
    pairwise_accuracy_table,
    worst_group_pair,
)
from keras_sqnn.metrics.fare import fare_tv_bound
from keras_sqnn.metrics.information_estimates import (
    mixture_mutual_information,
    plugin_entropy,
    plugin_mutual_information,
    sample_codes,
)
from keras_sqnn.metrics.information_probe import (
    REPORT_COLUMNS,
    information_report,
    layer_probabilities,
)
from keras_sqnn.metrics.probes import RepresentationProbeResult, adrg, representation_probe
from keras_sqnn.metrics.tradeoff import equal_tradeoff_line, tradeoff_distance

__all__ = [
    "Certificate",
    "DEFAULT_NUM_THRESHOLDS",
    "REPORT_COLUMNS",
    "RepresentationProbeResult",
    "adrg",
    "area_under_discrimination_curve",
    "auc",
    "audc",
    "certify",
    "certify_probabilities",
    "discrimination_curve",
    "equal_tradeoff_line",
    "evaluate_fairness",
    "extract_representation",
    "fare_tv_bound",
    "find_representation_layer",
    "gpa",
    "group_pairwise_accuracy_difference",
    "information_report",
    "layer_probabilities",
    "mixture_mutual_information",
    "pairwise_accuracy",
    "pairwise_accuracy_table",
    "plugin_entropy",
    "plugin_mutual_information",
    "representation_probe",
    "sample_codes",
    "tradeoff_distance",
    "worst_group_pair",
]
