"""Property-based tests (hypothesis) of the information estimators.

For any batch of Bernoulli parameters theta in [0, 1] (exact 0 and 1 included) and group ids
s in [0, K): MI >= 0; the joint MI is at most min(H(S), H(T)); the per-unit and joint MI
agree for a single unit; both are 0 when theta does not depend on S; and relabelling the
groups or permuting the units (or the examples) changes nothing.

Examples are derandomized (the same ones on every run, no example database), so CI is
deterministic. Tolerances: the estimators work in float32; sums of at most 16 codes x 24
examples of terms of at most log2(24) bits carry rounding errors of order 1e-6 bits, so
1e-5 absolute is the float32 tolerance used throughout.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_sqnn import information
from tests import reference

ATOL = 1e-5

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Probabilities with the end points and values next to them over-represented.
PROBABILITIES = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, 1e-7, 1.0 - 2**-24]),
    st.floats(0.0, 1.0, width=32, allow_subnormal=False),
)


@st.composite
def batches(draw, max_units=4):
    n = draw(st.integers(1, 24))
    units = draw(st.integers(1, max_units))
    k = draw(st.integers(2, 4))
    theta = draw(hnp.arrays(np.float32, (n, units), elements=PROBABILITIES))
    s = draw(hnp.arrays(np.int32, (n,), elements=st.integers(0, k - 1)))
    return theta, s, k


def _per_unit(theta, s, k):
    return information.per_unit_mutual_information(theta, s, k).numpy()


def _joint(theta, s, k):
    return float(information.exact_joint_mutual_information(theta, s, k))


def _entropy_of_s(s):
    return reference.entropy_bits(np.bincount(s) / len(s))


def _entropy_of_t(theta):
    """H(T) of the batch mixture, enumerating the codes in float64 (independent reference)."""
    theta = theta.astype(np.float64)
    codes = np.array(list(itertools.product([0, 1], repeat=theta.shape[1])))
    p = np.array([np.prod(np.where(code == 1, theta, 1 - theta), axis=1) for code in codes])
    return reference.entropy_bits(p.mean(axis=1))


@SETTINGS
@given(batches())
def test_mi_is_non_negative(batch):
    theta, s, k = batch
    assert np.all(_per_unit(theta, s, k) >= -ATOL)
    assert _joint(theta, s, k) >= -ATOL
    codes = (theta >= 0.5).astype(np.float32)
    assert float(information.counting_mutual_information(codes, s, k)) >= -ATOL


@SETTINGS
@given(batches())
def test_mi_is_bounded_by_both_entropies(batch):
    theta, s, k = batch
    h_s = _entropy_of_s(s)
    joint = _joint(theta, s, k)
    assert joint <= min(h_s, _entropy_of_t(theta)) + ATOL
    for unit, mi in enumerate(_per_unit(theta, s, k)):
        assert mi <= min(h_s, _entropy_of_t(theta[:, [unit]])) + ATOL
    # ... and it is the brute-force batch-mixture MI.
    assert abs(joint - reference.joint_mi_bits(theta, s, k)) <= ATOL


@SETTINGS
@given(batches(max_units=1))
def test_per_unit_and_joint_agree_for_a_single_unit(batch):
    theta, s, k = batch
    per_unit = _per_unit(theta, s, k)
    assert per_unit.shape == (1,)
    assert abs(per_unit[0] - _joint(theta, s, k)) <= ATOL
    assert abs(float(information.bernoulli_mutual_information(theta, s, k)) - per_unit[0]) <= ATOL
    assert abs(float(information.joint_mutual_information(theta, s, k)) - per_unit[0]) <= ATOL


@SETTINGS
@given(
    hnp.arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=PROBABILITIES),
    st.integers(2, 4),
    st.integers(1, 3),
)
def test_mi_is_zero_when_theta_does_not_depend_on_s(rows, k, copies):
    # Every group holds the same multiset of theta rows, so p(t | s) = p(t) for every s.
    theta = np.tile(rows, (k * copies, 1))
    s = np.repeat(np.arange(k, dtype=np.int32), len(rows) * copies)
    np.testing.assert_allclose(_per_unit(theta, s, k), 0.0, atol=ATOL)
    assert abs(_joint(theta, s, k)) <= ATOL
    # The sampled estimator too: with identical groups its conditional and marginal
    # mixtures coincide whatever codes are drawn.
    codes = (np.random.default_rng(0).uniform(size=theta.shape) < theta).astype(np.float32)
    sampled = float(information.sampled_joint_mutual_information(theta, codes, s, k))
    assert abs(sampled) <= ATOL


@SETTINGS
@given(batches(), st.randoms(use_true_random=False))
def test_mi_is_invariant_to_relabelling_groups_and_permuting_units(batch, random):
    theta, s, k = batch
    relabel = np.array(random.sample(range(k), k), dtype=np.int32)
    units = random.sample(range(theta.shape[1]), theta.shape[1])
    rows = random.sample(range(theta.shape[0]), theta.shape[0])
    per_unit, joint = _per_unit(theta, s, k), _joint(theta, s, k)

    np.testing.assert_allclose(_per_unit(theta, relabel[s], k), per_unit, atol=ATOL)
    assert abs(_joint(theta, relabel[s], k) - joint) <= ATOL
    np.testing.assert_allclose(_per_unit(theta[:, units], s, k), per_unit[units], atol=ATOL)
    assert abs(_joint(theta[:, units], s, k) - joint) <= ATOL
    np.testing.assert_allclose(_per_unit(theta[rows], s[rows], k), per_unit, atol=ATOL)
    assert abs(_joint(theta[rows], s[rows], k) - joint) <= ATOL


@SETTINGS
@given(batches())
def test_results_are_finite_with_saturated_theta(batch):
    theta, s, k = batch
    theta = np.round(theta)  # every theta exactly 0 or 1
    assert np.all(np.isfinite(_per_unit(theta, s, k)))
    assert np.isfinite(_joint(theta, s, k))
    codes = theta.copy()  # Bernoulli(0 or 1) samples are certain
    sampled = float(information.sampled_joint_mutual_information(theta, codes, s, k))
    # With deterministic codes the sampled estimate is the plug-in MI of those codes exactly.
    assert abs(sampled - reference.counting_mi_bits(codes, s)) <= ATOL
