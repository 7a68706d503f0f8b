import numpy as np
import pytest
from scipy.spatial.distance import cdist

from keras_sqnn.lab.baselines import group_mmd, rbf_kernel
from tests.lab.baselines.reference import reference_mmd


def test_rbf_kernel_matches_scipy_distances():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    expected = np.exp(-cdist(a, b, "sqeuclidean") / (2 * 1.5**2))
    np.testing.assert_allclose(np.asarray(rbf_kernel(a, b, 1.5)), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "num_groups, s",
    [
        (2, np.array([0, 1] * 10)),
        (3, np.array([0, 1, 2, 2] * 5)),
        (3, np.array([0, 2] * 10)),  # group 1 absent from the batch
        (2, np.zeros(20, int)),  # one group only: no pair, 0
    ],
)
def test_group_mmd_matches_brute_force(num_groups, s):
    z = np.random.default_rng(1).normal(size=(20, 4)) + s[:, None]
    value = float(group_mmd(z, s, num_groups, 2.0))
    np.testing.assert_allclose(value, reference_mmd(z, s, num_groups, 2.0), rtol=1e-6, atol=1e-12)


def test_group_mmd_is_zero_for_identical_groups_and_grows_with_the_shift():
    z = np.random.default_rng(2).normal(size=(10, 2))
    both = np.concatenate([z, z]).astype("float32")
    s = np.repeat([0, 1], 10)
    assert abs(float(group_mmd(both, s, 2, 1.0))) < 1e-6
    shifted = [float(group_mmd(both + np.outer(s, [d, 0]), s, 2, 1.0)) for d in (0.5, 1, 2)]
    assert shifted == sorted(shifted) and shifted[0] > 0
