"""Which trial of a search becomes the tuned point: the selection rules.

The paper selects the trial with the best mean inner ``AUC + (1 - GPA) + (1 - AUDC)``.
That objective has a degenerate optimum: a constant score has AUC 0.5, GPA 0 and AUDC 0,
so it scores 2.5, more than a useful classifier whose AUC gain costs it some fairness
(COMPAS' vanilla network: 0.732 + 0.718 + 0.876 = 2.33). Small searches do select
near-chance models. Two rules:

* ``"objective"``: the paper's, the trial with the best mean inner objective.
* ``"auc_floor"`` (the default): the best objective among the trials whose mean inner AUC
  is at least the reference AUC minus 0.05, where the reference is the best mean inner
  AUC that the tuned vanilla network reached on the same outer fold. A method must stay
  within 0.05 AUC of an unconstrained network to be chosen for its fairness, which
  excludes models at chance. When no trial is eligible, the trial with the best inner
  AUC is taken and the rule recorded as ``"auc_floor:none_eligible"``.

Trials whose objective or AUC is not finite are never selected; ties go to the earlier
trial.

Example:
    >>> records = [
    ...     TrialRecord({"gamma": 0.9}, {"fairness_score": 2.5, "auc": 0.5}),
    ...     TrialRecord({"gamma": 0.1}, {"fairness_score": 2.3, "auc": 0.7}),
    ... ]
    >>> select(records, "objective").record.values
    {'gamma': 0.9}
    >>> chosen = select(records, "auc_floor", reference_auc=0.72)
    >>> chosen.record.values, chosen.rule
    ({'gamma': 0.1}, 'auc_floor')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from keras_sqnn.lab.experiments.tuned_schema import SELECTION_RULES
from keras_sqnn.tuning import OBJECTIVE

__all__ = [
    "AUC_MARGIN",
    "SELECTION_RULES",
    "Selection",
    "TrialRecord",
    "best_auc",
    "check_rule",
    "select",
]

AUC_MARGIN = 0.05
"""How far below the vanilla network's best inner AUC a trial may be under ``auc_floor``."""


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial: its settings and its mean inner metrics.

    Attributes:
        values: the method's settings (what its space returned for the trial).
        metrics: mean inner metrics, at least ``"fairness_score"`` and ``"auc"``.
        trial_id: the trial's id in its search.
    """

    values: Mapping[str, Any]
    metrics: Mapping[str, float] = field(default_factory=dict)
    trial_id: str = ""

    @property
    def score(self) -> float:
        return float(self.metrics.get(OBJECTIVE, math.nan))

    @property
    def auc(self) -> float:
        return float(self.metrics.get("auc", math.nan))


@dataclass(frozen=True)
class Selection:
    """The chosen trial and the rule that chose it (as reported in the results)."""

    record: TrialRecord
    rule: str


def _finite(records: Sequence[TrialRecord]) -> list[TrialRecord]:
    usable = [r for r in records if math.isfinite(r.score) and math.isfinite(r.auc)]
    if not usable:
        raise ValueError(
            "Expected at least one trial with a finite objective and AUC. "
            f"Received: {len(records)} trials"
        )
    return usable


def best_auc(records: Sequence[TrialRecord]) -> float:
    """The best mean inner AUC of the trials: the reference of ``auc_floor``."""
    return max(r.auc for r in _finite(records))


def select_objective(records: Sequence[TrialRecord]) -> Selection:
    """The paper's rule: the trial with the best mean inner objective."""
    return Selection(max(_finite(records), key=lambda r: r.score), "objective")


def select_auc_floor(
    records: Sequence[TrialRecord], reference_auc: float, *, margin: float = AUC_MARGIN
) -> Selection:
    """The best objective among trials with AUC >= ``reference_auc - margin``.

    Falls back to the trial with the best AUC (rule ``"auc_floor:none_eligible"``) when
    none is eligible.
    """
    if not math.isfinite(reference_auc):
        raise ValueError(f"Expected a finite reference AUC. Received: {reference_auc}")
    usable = _finite(records)
    eligible = [r for r in usable if r.auc >= reference_auc - margin]
    if not eligible:
        return Selection(max(usable, key=lambda r: r.auc), "auc_floor:none_eligible")
    return Selection(max(eligible, key=lambda r: r.score), "auc_floor")


def select(
    records: Sequence[TrialRecord],
    rule: str = "auc_floor",
    *,
    reference_auc: float | None = None,
    margin: float = AUC_MARGIN,
) -> Selection:
    """The trial that ``rule`` (one of :data:`SELECTION_RULES`) chooses among ``records``.

    Args:
        records: the finished trials of one search.
        rule: ``"auc_floor"`` or ``"objective"``.
        reference_auc: the reference of ``"auc_floor"`` (the vanilla network's best inner
            AUC on the same outer fold).
        margin: how far below the reference a trial may be under ``"auc_floor"``.
    """
    check_rule(rule)
    if rule == "objective":
        return select_objective(records)
    if reference_auc is None:
        raise ValueError("Expected a `reference_auc` for rule 'auc_floor'. Received: None")
    return select_auc_floor(records, reference_auc, margin=margin)


def check_rule(rule: Any) -> str:
    """``rule`` if it is one of :data:`SELECTION_RULES`, else a ``ValueError`` naming it."""
    if rule not in SELECTION_RULES:
        raise ValueError(
            f"Expected `selection` to be one of {SELECTION_RULES}. Received: selection={rule!r}"
        )
    return str(rule)
