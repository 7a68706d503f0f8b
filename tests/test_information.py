import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn import information
from tests import reference

RNG = np.random.default_rng(1234)


def _random_batch(n=40, m=4, k=3, sharp=False):
    theta = RNG.uniform(size=(n, m)).astype("float32")
    if sharp:
        theta = theta**4
    s = RNG.integers(0, k, size=n).astype("int32")
    return theta, s


def test_bernoulli_entropy_end_points_and_midpoint():
    values = information.bernoulli_entropy(np.array([0.0, 1.0, 0.5, 0.11], "float32")).numpy()
    expected = [0.0, 0.0, 1.0, reference.entropy_bits([0.11, 0.89])]
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-7)


def test_bernoulli_entropy_gradient_is_finite_at_end_points():
    p = tf.constant([0.0, 1.0, 0.3])
    with tf.GradientTape() as tape:
        tape.watch(p)
        h = tf.reduce_sum(information.bernoulli_entropy(p))
    assert np.all(np.isfinite(tape.gradient(h, p).numpy()))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_per_unit_matches_brute_force(k):
    theta, s = _random_batch(k=k)
    got = information.per_unit_mutual_information(theta, s, k).numpy()
    np.testing.assert_allclose(got, reference.per_unit_mi_bits(theta, s, k), rtol=1e-5, atol=1e-7)
    total = information.bernoulli_mutual_information(theta, s, k).numpy()
    # A sum of float32 differences of ~1-bit entropies: 1e-6 absolute.
    expected = reference.per_unit_mi_bits(theta, s, k).sum()
    np.testing.assert_allclose(total, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("m", "k", "sharp"), [(1, 2, False), (3, 2, True), (5, 3, False)])
def test_exact_joint_matches_brute_force(m, k, sharp):
    theta, s = _random_batch(m=m, k=k, sharp=sharp)
    got = float(information.exact_joint_mutual_information(theta, s, k))
    np.testing.assert_allclose(got, reference.joint_mi_bits(theta, s, k), rtol=1e-5, atol=1e-7)


def test_single_unit_per_unit_equals_joint():
    theta, s = _random_batch(m=1)
    per_unit = float(information.bernoulli_mutual_information(theta, s, 3))
    joint = float(information.exact_joint_mutual_information(theta, s, 3))
    np.testing.assert_allclose(per_unit, joint, rtol=1e-5, atol=1e-7)


def test_xor_counterexample_to_the_papers_lemma():
    # Two fair independent bits and S = T1 XOR T2: no single bit says anything about S,
    # the pair says everything. The per-unit sum is therefore not an upper bound.
    theta = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], "float32")
    s = np.array([0, 0, 1, 1])
    assert float(information.bernoulli_mutual_information(theta, s, 2)) == pytest.approx(
        0, abs=1e-6
    )
    assert float(information.exact_joint_mutual_information(theta, s, 2)) == pytest.approx(
        1, abs=1e-5
    )
    assert float(information.counting_mutual_information(theta, s, 2)) == pytest.approx(1, abs=1e-5)
    assert float(information.sampled_joint_mutual_information(theta, theta, s, 2)) == pytest.approx(
        1, abs=1e-5
    )


def test_absent_group_contributes_nothing_and_gives_no_nan():
    theta, s = _random_batch(k=2)
    with_spare_groups = information.per_unit_mutual_information(theta, s, 4).numpy()
    np.testing.assert_allclose(
        with_spare_groups, information.per_unit_mutual_information(theta, s, 2).numpy(), rtol=1e-6
    )
    one_group = np.zeros_like(s)
    for value in (
        information.bernoulli_mutual_information(theta, one_group, 2),
        information.exact_joint_mutual_information(theta, one_group, 2),
        information.sampled_joint_mutual_information(theta, (theta > 0.5) * 1.0, one_group, 2),
        information.counting_mutual_information((theta > 0.5) * 1.0, one_group, 2),
    ):
        assert float(value) == pytest.approx(0.0, abs=1e-6)


def test_saturated_theta_is_finite_and_exact():
    theta = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]], "float32")
    s = np.array([0, 1, 0, 1])
    expected = reference.joint_mi_bits(theta, s, 2)
    assert float(information.exact_joint_mutual_information(theta, s, 2)) == pytest.approx(
        expected, abs=1e-6
    )
    np.testing.assert_allclose(
        information.per_unit_mutual_information(theta, s, 2).numpy(),
        reference.per_unit_mi_bits(theta, s, 2),
        atol=1e-6,
    )


def test_counting_matches_dictionary_counts():
    codes = (RNG.uniform(size=(200, 3)) < 0.4).astype("float32")
    s = RNG.integers(0, 3, size=200)
    got = float(information.counting_mutual_information(codes, s, 3))
    np.testing.assert_allclose(got, reference.counting_mi_bits(codes, s), rtol=1e-5, atol=1e-6)
    h = float(information.counting_entropy(codes))
    _, counts = np.unique(codes, axis=0, return_counts=True)
    np.testing.assert_allclose(h, reference.entropy_bits(counts / counts.sum()), rtol=1e-5)


def test_sampled_joint_is_unbiased_for_the_batch_mixture():
    theta, s = _random_batch(n=32, m=4, k=3, sharp=True)
    exact = float(information.exact_joint_mutual_information(theta, s, 3))
    estimate = tf.function(lambda c: information.sampled_joint_mutual_information(theta, c, s, 3))
    draws = np.array(
        [
            float(estimate((RNG.uniform(size=theta.shape) < theta).astype("float32")))
            for _ in range(2000)
        ]
    )
    standard_error = draws.std() / np.sqrt(draws.size)
    # Unbiased: the mean of 2000 independent draws lies within 4 standard errors of the
    # exact value (a false alarm has probability < 1e-4 under the normal approximation).
    assert abs(draws.mean() - exact) < 4 * standard_error


def test_joint_dispatches_on_width():
    theta, s = _random_batch(m=3)
    exact = float(information.exact_joint_mutual_information(theta, s, 3))
    assert float(information.joint_mutual_information(theta, s, 3)) == pytest.approx(
        exact, rel=1e-6
    )
    codes = (theta > 0.5).astype("float32")
    sampled = float(information.sampled_joint_mutual_information(theta, codes, s, 3))
    assert float(
        information.joint_mutual_information(theta, s, 3, codes=codes, max_exact_units=2)
    ) == pytest.approx(sampled, rel=1e-6)


@pytest.mark.parametrize(
    "estimator",
    [information.bernoulli_mutual_information, information.exact_joint_mutual_information],
)
def test_gradient_matches_finite_differences(estimator):
    theta, s = _random_batch(n=12, m=3, k=2)
    theta = theta.astype("float64")
    variable = tf.Variable(theta.astype("float32"))
    with tf.GradientTape() as tape:
        value = estimator(variable, s, 2)
    gradient = tape.gradient(value, variable).numpy()
    epsilon = 1e-3
    for index in [(0, 0), (3, 1), (7, 2), (11, 0)]:
        up, down = theta.copy(), theta.copy()
        up[index] += epsilon
        down[index] -= epsilon
        numeric = (
            float(estimator(up.astype("float32"), s, 2))
            - float(estimator(down.astype("float32"), s, 2))
        ) / (2 * epsilon)
        # Central differences in float32 with epsilon = 1e-3: error ~1e-4 absolute.
        assert gradient[index] == pytest.approx(numeric, abs=2e-3, rel=2e-2)


def _autodiff_and_closed_form(theta, codes, s, k):
    """Values and gradients of the closed-form estimators and of their autodiff references."""
    theta, codes = tf.constant(theta), tf.constant(codes)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([theta, codes])
        bernoulli_reference = tf.reduce_sum(information.per_unit_mutual_information(theta, s, k))
        bernoulli = information.bernoulli_mutual_information(theta, s, k)
        joint_reference = tf.reduce_sum(information.sampled_joint_terms(codes, s, theta, s, k))
        joint = information.sampled_joint_total(codes, s, theta, s)
    pairs = {
        "bernoulli": (bernoulli, bernoulli_reference, [theta]),
        "joint": (joint, joint_reference, [theta, codes]),
    }
    return {
        name: (
            float(value),
            float(reference_value),
            [tape.gradient(value, x).numpy() for x in wrt],
            [tape.gradient(reference_value, x).numpy() for x in wrt],
        )
        for name, (value, reference_value, wrt) in pairs.items()
    }


@pytest.mark.parametrize("case", ["interior", "saturated", "absent-group"])
def test_closed_form_gradients_equal_autodiff_of_the_plain_formulas(case):
    # The estimators used as losses carry hand-written gradients; the references are the
    # same quantities written op by op (masked logsumexp, per-unit entropies) under autodiff.
    theta, s = _random_batch(n=48, m=6, k=3)
    if case == "saturated":
        theta[:6, :2], theta[6:12, 3] = 1.0, 0.0  # log(0) floors and 1/x cut-offs
    if case == "absent-group":
        s = np.minimum(s, 1)  # group 2 of 3 never occurs
    codes = (RNG.uniform(size=theta.shape) < theta).astype("float32")
    for name, (value, expected, gradients, expected_gradients) in _autodiff_and_closed_form(
        theta, codes, s, 3
    ).items():
        # float32 sums of ~50 terms of size <= 1 bit: 1e-5 absolute. The float32 autodiff
        # gradients are themselves up to ~8e-5 off the float64 values (see the next test).
        assert value == pytest.approx(expected, abs=1e-5), name
        for got, want in zip(gradients, expected_gradients, strict=True):
            assert np.all(np.isfinite(got)), name
            np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-3, err_msg=name)


def _joint_total_float64(codes, s, theta):
    """Float64 reference: the batch-mixture log-ratio sum, written with plain TF ops."""
    theta, codes = tf.constant(theta, tf.float64), tf.constant(codes, tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([theta, codes])
        log_lik = tf.matmul(codes, tf.math.log(theta), transpose_b=True) + tf.matmul(
            1.0 - codes, tf.math.log(1.0 - theta), transpose_b=True
        )
        same = s[:, None] == s[None, :]
        sizes = tf.reduce_sum(tf.cast(same, tf.float64), axis=1)
        conditional = tf.reduce_logsumexp(tf.where(same, log_lik, -np.inf), 1) - tf.math.log(sizes)
        marginal = tf.reduce_logsumexp(log_lik, 1) - np.log(len(s))
        total = tf.reduce_sum(conditional - marginal) / np.log(2.0)
    return float(total), tape.gradient(total, theta).numpy(), tape.gradient(total, codes).numpy()


def test_sampled_joint_total_matches_a_float64_reference():
    theta, s = _random_batch(n=48, m=6, k=3)
    codes = (RNG.uniform(size=theta.shape) < theta).astype("float32")
    expected, expected_theta, expected_codes = _joint_total_float64(codes, s, theta)
    theta32, codes32 = tf.constant(theta), tf.constant(codes)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([theta32, codes32])
        total = information.sampled_joint_total(codes32, s, theta32, s)
    # Measured float32 error of the closed form: <= 4e-6 over 5 random batches; 2e-5 allowed.
    assert float(total) == pytest.approx(expected, abs=2e-5)
    np.testing.assert_allclose(tape.gradient(total, theta32), expected_theta, atol=2e-5)
    np.testing.assert_allclose(tape.gradient(total, codes32), expected_codes, atol=2e-5)


def test_sampled_joint_total_is_finite_when_likelihoods_differ_by_hundreds_of_nats():
    # A wide, sharp layer (a conv feature map): codes' log-likelihoods under other examples'
    # theta are hundreds of nats below their own; exp without a row-wise shift underflows.
    n, m = 32, 600
    theta = np.where(RNG.uniform(size=(n, m)) < 0.5, 0.02, 0.98).astype("float32")
    s = (np.arange(n) % 2).astype("int32")
    codes = (RNG.uniform(size=(n, m)) < theta).astype("float32")
    got = float(information.sampled_joint_total(codes, s, theta, s))
    expected = float(tf.reduce_sum(information.sampled_joint_terms(codes, s, theta, s, 2)))
    # Every code is far likelier under its own theta: each term is log2(n / n_s) = 1 bit.
    assert got == pytest.approx(expected, abs=1e-4)
    assert got == pytest.approx(n * 1.0, abs=1e-3)


def test_sampled_joint_gradient_with_unknown_static_shapes():
    # The backward pass splits a matmul at the number of units: it must work when that
    # width is only known at run time (traced with None dimensions), giving the eager result.
    theta, s = _random_batch(n=20, m=5, k=2)
    codes = (RNG.uniform(size=theta.shape) < theta).astype("float32")
    spec = tf.TensorSpec((None, None))

    def value_and_gradient(theta, codes, s):
        with tf.GradientTape() as tape:
            tape.watch(theta)
            value = information.sampled_joint_mutual_information(theta, codes, s, 2)
        return value, tape.gradient(value, theta)

    traced = tf.function(
        value_and_gradient, input_signature=[spec, spec, tf.TensorSpec((None,), tf.int32)]
    )
    value, gradient = traced(theta, codes, s)
    eager_value, eager_gradient = value_and_gradient(tf.constant(theta), codes, s)
    assert float(value) == pytest.approx(float(eager_value), abs=1e-6)
    np.testing.assert_allclose(gradient, eager_gradient, atol=1e-6)


def test_sampled_joint_groups_are_compared_id_to_id():
    # Ids need not lie in [0, num_groups): groups are matched by equality (the layers check
    # the range themselves).
    theta, s = _random_batch(n=30, m=4, k=2)
    codes = (RNG.uniform(size=theta.shape) < theta).astype("float32")
    relabelled = np.where(s == 1, 5, 0).astype("int32")
    assert float(information.sampled_joint_mutual_information(theta, codes, relabelled, 2)) == (
        pytest.approx(float(information.sampled_joint_mutual_information(theta, codes, s, 2)))
    )


def test_bernoulli_mi_accepts_theta_of_any_rank():
    theta, s = _random_batch(n=30, m=6, k=2)
    flat = float(information.bernoulli_mutual_information(theta, s, 2))
    assert float(
        information.bernoulli_mutual_information(theta.reshape(30, 2, 3), s, 2)
    ) == pytest.approx(flat, abs=1e-6)


def test_bernoulli_closed_form_gradient_for_an_absent_group_matches_autodiff():
    # The gradient with respect to the group sums (what reaches an all-reduce under a
    # distribution strategy), including the row of a group absent from the batch.
    theta, s = _random_batch(n=30, m=4, k=3)
    s = np.minimum(s, 1)
    counts, sums = information.group_sums(theta, s, 3)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(sums)
        closed_form = information.bernoulli_mutual_information_from_sums(counts, sums)
        plain = tf.reduce_sum(information.per_unit_mutual_information_from_sums(counts, sums))
    np.testing.assert_allclose(
        tape.gradient(closed_form, sums), tape.gradient(plain, sums), atol=1e-5
    )
