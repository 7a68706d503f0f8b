"""Information estimators for stochastic binary layers, as small pure functions.

All quantities are in **bits**. ``theta`` holds Bernoulli parameters, one row per example
and one column per binary unit (shape ``(batch, units)``); ``sensitive`` holds the sensitive
attribute as integers in ``[0, num_groups)``. The batch is the empirical distribution of X,
so a layer's code T is the mixture ``p(t) = mean_b prod_i Bernoulli(t_i; theta_bi)`` and
``p(t | s)`` the same mixture over the examples of group ``s``.

Four estimators, one module each:

* ``per_unit``: :func:`per_unit_mutual_information` / :func:`bernoulli_mutual_information`,
  the paper's ``BinaryBernoulli`` objective ``sum_i I(T_i; S)``, closed form and
  differentiable. **It is not an upper bound on I(T; S) in general**, contrary to the
  paper's lemma: the lemma needs the units to be conditionally independent given S. With
  two fair independent bits and ``S = T1 XOR T2`` it gives 0 bits while ``I(T; S) = 1``
  bit. Treat it as a cheap surrogate.
* ``joint``: :func:`exact_joint_mutual_information`, ``I(T; S)`` of the whole layer by
  enumerating the ``2**units`` codes (``codes``): exact for the batch mixture and
  differentiable (small layers).
* ``sampled_joint``: :func:`sampled_joint_mutual_information`, the same quantity estimated
  from one sampled code per example in ``O(batch**2 * units)`` with static shapes. Given the
  batch it is unbiased for the batch-mixture ``I(T; S)`` (the mixture densities are exact;
  only the codes are sampled). Its gradient flows through the mixture densities and, when
  the codes carry a straight-through gradient, through the codes.
* ``counting``: :func:`counting_mutual_information`, the paper's ``BinaryMI`` plug-in
  histogram of observed codes: a monitor, not a loss (counts have no gradient).

``entropy`` holds the entropies in bits and ``groups`` the per-group sums (the sufficient
statistics that replicas add up) that the estimators share.

The two used as training losses carry closed-form gradients
(:func:`bernoulli_mutual_information_from_sums`, :func:`sampled_joint_total`), equal to what
autodiff gives the plain formulas (:func:`per_unit_mutual_information`,
:func:`sampled_joint_terms`) in far fewer ops.

The batch-mixture quantities are themselves plug-in estimates of the population ``I(T; S)``:
with few examples per group and sharp ``theta`` they are biased upwards (at worst towards
``H(S)`` when every example has its own code).

References:
    Cerrato, Köppel, Esposito, Kramer (2022). Invariant Representations with Stochastically
    Quantized Neural Networks. AAAI.
"""

from keras_sqnn.information.codes import all_codes, code_log_likelihoods, code_probabilities
from keras_sqnn.information.conditional import (
    conditional_mutual_information,
    mixed_radix_ids,
    pair_ids,
)
from keras_sqnn.information.counting import counting_entropy, counting_mutual_information
from keras_sqnn.information.entropy import LN2, TINY, bernoulli_entropy, categorical_entropy
from keras_sqnn.information.groups import group_sums
from keras_sqnn.information.joint import (
    DEFAULT_MAX_EXACT_UNITS,
    exact_joint_mutual_information,
    exact_joint_mutual_information_from_sums,
    joint_mutual_information,
)
from keras_sqnn.information.per_unit import (
    bernoulli_mutual_information,
    bernoulli_mutual_information_from_sums,
    per_unit_mutual_information,
    per_unit_mutual_information_from_sums,
)
from keras_sqnn.information.sampled_joint import (
    logits_from_probabilities,
    sampled_joint_mutual_information,
    sampled_joint_terms,
    sampled_joint_total,
    sampled_joint_total_from_theta,
)

__all__ = [
    "DEFAULT_MAX_EXACT_UNITS",
    "LN2",
    "TINY",
    "all_codes",
    "bernoulli_entropy",
    "bernoulli_mutual_information",
    "bernoulli_mutual_information_from_sums",
    "categorical_entropy",
    "conditional_mutual_information",
    "code_log_likelihoods",
    "code_probabilities",
    "counting_entropy",
    "counting_mutual_information",
    "exact_joint_mutual_information",
    "exact_joint_mutual_information_from_sums",
    "group_sums",
    "joint_mutual_information",
    "logits_from_probabilities",
    "mixed_radix_ids",
    "pair_ids",
    "per_unit_mutual_information",
    "per_unit_mutual_information_from_sums",
    "sampled_joint_mutual_information",
    "sampled_joint_terms",
    "sampled_joint_total",
    "sampled_joint_total_from_theta",
]
