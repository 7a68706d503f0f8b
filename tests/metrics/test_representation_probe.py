"""Tests of the random-forest representation probe (ADRG and probe AUCs)."""

from __future__ import annotations

import numpy as np
import pytest

from keras_sqnn.metrics import RepresentationProbeResult, adrg, representation_probe

# Small forests keep these tests fast; the paper's 1000 trees only reduce the variance.
N_ESTIMATORS = 50
N = 2000
N_TEST = int(0.3 * N)  # the default test_size
# Tolerances for uninformative representations: the probe's test accuracy on balanced S is
# then a binomial proportion with p = 1/2, of standard deviation sqrt(p (1 - p) / n_test)
# ~ 0.020, and an AUC on noise has standard deviation sqrt((n_test + 1) / (12 n_0 n_1))
# ~ 0.024 (Hanley and McNeil 1982) with n_0 = n_1 = n_test / 2. We allow 4 of each.
ACCURACY_TOLERANCE = 4 * np.sqrt(0.25 / N_TEST)
AUC_TOLERANCE = 4 * np.sqrt((N_TEST + 1) / (12 * (N_TEST / 2) ** 2))


def test_perfectly_recoverable_s_gives_one_minus_majority():
    rng = np.random.default_rng(0)
    s = (rng.uniform(size=N) < 0.3).astype(int)  # about 70% in group 0
    # The first feature is S plus bounded noise: a margin of 0.8 separates the groups.
    representation = np.column_stack([s + rng.uniform(-0.1, 0.1, N), rng.normal(size=(N, 3))])
    result = representation_probe(representation, sensitive_features=s, n_estimators=N_ESTIMATORS)
    assert isinstance(result, RepresentationProbeResult)
    assert result.probe_accuracy == 1.0
    assert result.probe_auc_s == 1.0
    assert result.probe_auc_y is None
    assert result.majority_ratio == pytest.approx(np.mean(s == 0), abs=0.01)  # stratified
    assert result.adrg == pytest.approx(1.0 - result.majority_ratio)
    assert result.adrg == pytest.approx(0.3, abs=0.03)


def test_pure_noise_gives_adrg_near_zero_and_auc_near_half():
    rng = np.random.default_rng(1)
    s = rng.permutation(np.repeat([0, 1], N // 2))  # balanced: majority ratio 1/2
    y = rng.integers(0, 2, N)
    representation = rng.normal(size=(N, 5))
    result = representation_probe(
        representation, y=y, sensitive_features=s, n_estimators=N_ESTIMATORS
    )
    assert result.majority_ratio == 0.5
    assert result.adrg <= ACCURACY_TOLERANCE
    assert abs(result.probe_auc_s - 0.5) <= AUC_TOLERANCE
    assert result.probe_auc_y is not None
    assert abs(result.probe_auc_y - 0.5) <= AUC_TOLERANCE


def test_probe_auc_y_measures_information_about_y_only():
    rng = np.random.default_rng(2)
    s = rng.permutation(np.repeat(["f", "m"], N // 2))
    y = rng.integers(0, 2, N)
    representation = np.column_stack([y + rng.normal(0, 0.1, N), rng.normal(size=N)])
    result = representation_probe(
        representation, y=y, sensitive_features=s, n_estimators=N_ESTIMATORS
    )
    assert result.probe_auc_y is not None and result.probe_auc_y > 0.99
    assert result.adrg <= ACCURACY_TOLERANCE


def test_three_groups_use_one_vs_rest_auc():
    rng = np.random.default_rng(3)
    s = rng.choice(["a", "b", "c"], size=N, p=[0.5, 0.3, 0.2])
    codes = np.unique(s, return_inverse=True)[1]
    representation = np.column_stack([codes + rng.uniform(-0.2, 0.2, N), rng.normal(size=N)])
    result = representation_probe(representation, sensitive_features=s, n_estimators=N_ESTIMATORS)
    assert result.probe_accuracy == 1.0
    assert result.probe_auc_s == 1.0
    assert result.adrg == pytest.approx(1.0 - result.majority_ratio)
    assert result.majority_ratio == pytest.approx(0.5, abs=0.04)


def test_adrg_shorthand_and_as_dict():
    rng = np.random.default_rng(4)
    s = rng.integers(0, 2, 300)
    representation = rng.normal(size=(300, 2, 2))  # flattened to (300, 4)
    result = representation_probe(
        representation, sensitive_features=s, n_estimators=10, random_state=7
    )
    assert (
        adrg(representation, sensitive_features=s, n_estimators=10, random_state=7) == result.adrg
    )
    assert result.as_dict() == {
        "adrg": result.adrg,
        "probe_accuracy": result.probe_accuracy,
        "majority_ratio": result.majority_ratio,
        "probe_auc_s": result.probe_auc_s,
        "probe_auc_y": None,
    }
    assert result.adrg == abs(result.probe_accuracy - result.majority_ratio)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"representation": np.full((20, 2), np.nan)}, "representation"),
        ({"representation": np.zeros((19, 2))}, "representation"),
        ({"sensitive_features": np.zeros(20)}, "`sensitive_features`"),
        ({"sensitive_features": np.array([0] * 19 + [1])}, "`sensitive_features`"),
        ({"sensitive_features": np.array([0.0] * 10 + [np.nan] * 10)}, "`sensitive_features`"),
        ({"y": np.arange(20)}, "`y`"),
        ({"y": np.zeros(20)}, "`y`"),
        ({"y": np.tile([0, 1], 10)[:19]}, "len\\(y\\)=19"),
        ({"n_estimators": 0}, "n_estimators"),
        ({"test_size": 1}, "test_size"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, match):
    rng = np.random.default_rng(5)
    arguments = {
        "representation": rng.normal(size=(20, 2)),
        "sensitive_features": np.repeat([0, 1], 10),
        "y": np.tile([0, 1], 10),
        "n_estimators": 5,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        representation_probe(**arguments)


def test_positional_s_still_works_with_a_deprecation_warning():
    rng = np.random.default_rng(6)
    s, y = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    representation = np.column_stack([s + rng.normal(0, 0.5, 200), y])
    expected = representation_probe(representation, y=y, sensitive_features=s, n_estimators=5)
    # The former positional order (representation, s, y) keeps its meaning.
    with pytest.warns(
        DeprecationWarning,
        match=r"`sensitive_features=`: `representation_probe\(representation, y=y, "
        r"sensitive_features=s\)`",
    ) as record:
        legacy = representation_probe(representation, s, y, n_estimators=5)
    assert legacy == expected
    # The warning points at the caller's line.
    assert all(w.filename == __file__ for w in record if "sensitive_features=" in str(w.message))
    with pytest.warns(DeprecationWarning, match=r"`adrg\(representation, sensitive_features=s\)`"):
        assert adrg(representation, s, n_estimators=5) == expected.adrg


def test_s_given_twice_or_not_at_all_is_a_type_error():
    rng = np.random.default_rng(7)
    s, y = np.repeat([0, 1], 10), np.tile([0, 1], 10)
    representation = rng.normal(size=(20, 2))
    # `y` in the second positional slot, the deprecated `s`: refused, not misread.
    with pytest.raises(TypeError, match=r"S once.*y=y, sensitive_features=s"):
        representation_probe(representation, y, sensitive_features=s)
    with pytest.raises(TypeError, match="both sensitive_features and s"):
        adrg(representation, s, sensitive_features=s)
    with pytest.raises(TypeError, match=r"`sensitive_features=`.*sensitive_features=None"):
        representation_probe(representation, y=y)
    with pytest.raises(TypeError, match="sensitive_features=None"):
        adrg(representation)
