import math

import pytest

from keras_sqnn import metrics
from keras_sqnn.lab.experiments.selection import (
    TrialRecord,
    best_auc,
    select,
    select_auc_floor,
    select_objective,
)


def trial(name, auc, gpa, audc):
    """A trial record with the paper's objective computed from its parts."""
    score = auc + (1 - gpa) + (1 - audc)
    return TrialRecord({"name": name}, {"fairness_score": score, "auc": auc}, trial_id=name)


def test_constant_scores_are_the_objectives_degenerate_optimum():
    # An independent check of the premise: constant scores have AUC 0.5, GPA 0, AUDC 0.
    y, s, scores = [0, 1, 0, 1, 1, 0], [0, 0, 1, 1, 0, 1], [0.3] * 6
    assert metrics.auc(y, scores) == 0.5
    assert metrics.gpa(y, scores, sensitive_features=s) == 0.0
    assert metrics.audc(y, scores, sensitive_features=s) == 0.0
    records = [
        trial("useful", auc=0.73, gpa=0.28, audc=0.12),  # 2.33, COMPAS' vanilla network
        trial("constant_like", auc=0.50, gpa=0.0, audc=0.0),  # 2.5
        trial("fair_enough", auc=0.70, gpa=0.10, audc=0.05),  # 2.55
        trial("near_chance", auc=0.52, gpa=0.0, audc=0.01),  # 2.51
    ]
    assert select(records[:2], "objective").record.trial_id == "constant_like"
    chosen = select(records[:2], "auc_floor", reference_auc=0.74)
    assert (chosen.record.trial_id, chosen.rule) == ("useful", "auc_floor")
    # Among eligible trials the rule still maximises the objective.
    chosen = select(records, "auc_floor", reference_auc=0.74)
    assert (chosen.record.trial_id, chosen.rule) == ("fair_enough", "auc_floor")
    assert select_objective(records).record.trial_id == "fair_enough"


def test_the_floor_is_inclusive_and_relative_to_the_reference():
    records = [trial("a", 0.5, 0.0, 0.0), trial("b", 0.75, 0.5, 0.5)]
    assert select_auc_floor(records, 1.0, margin=0.25).record.trial_id == "b"
    assert select_auc_floor(records, 0.55, margin=0.25).record.trial_id == "a"


def test_no_eligible_trial_takes_the_best_auc_and_says_so():
    records = [trial("a", 0.55, 0.0, 0.0), trial("b", 0.60, 0.3, 0.3), trial("c", 0.58, 0, 0)]
    chosen = select(records, "auc_floor", reference_auc=0.9)
    assert (chosen.record.trial_id, chosen.rule) == ("b", "auc_floor:none_eligible")


def test_unusable_trials_ties_and_bad_requests():
    nan = TrialRecord({}, {"fairness_score": math.nan, "auc": 0.9}, trial_id="nan")
    missing = TrialRecord({}, {}, trial_id="missing")
    first, second = trial("first", 0.7, 0.1, 0.1), trial("second", 0.7, 0.1, 0.1)
    records = [nan, missing, first, second]
    assert select(records, "objective").record.trial_id == "first"
    assert select(records, "auc_floor", reference_auc=0.7).record.trial_id == "first"
    assert best_auc(records) == 0.7
    with pytest.raises(ValueError, match="at least one trial"):
        select([nan, missing], "objective")
    with pytest.raises(ValueError, match="Received: selection='best'"):
        select(records, "best")
    with pytest.raises(ValueError, match="reference_auc"):
        select(records, "auc_floor")
    with pytest.raises(ValueError, match="finite reference"):
        select(records, "auc_floor", reference_auc=math.nan)
