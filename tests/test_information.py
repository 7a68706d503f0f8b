import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn import information
from tests import reference


def _random_batch(rng, n=40, m=4, k=3, sharp=False):
    theta = rng.uniform(size=(n, m)).astype("float32")
    if sharp:
        theta = theta**4
    s = rng.integers(0, k, size=n).astype("int32")
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
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, k=k)
    got = information.per_unit_mutual_information(theta, s, k).numpy()
    # Each unit's MI is a float32 difference of ~1-bit entropies (a few ulps of 1, ~1e-7
    # each): 1e-6 absolute.
    np.testing.assert_allclose(got, reference.per_unit_mi_bits(theta, s, k), rtol=1e-5, atol=1e-6)
    total = information.bernoulli_mutual_information(theta, s, k).numpy()
    # A sum of such differences: 1e-6 absolute.
    expected = reference.per_unit_mi_bits(theta, s, k).sum()
    np.testing.assert_allclose(total, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("m", "k", "sharp"), [(1, 2, False), (3, 2, True), (5, 3, False)])
def test_exact_joint_matches_brute_force(m, k, sharp):
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, m=m, k=k, sharp=sharp)
    got = float(information.exact_joint_mutual_information(theta, s, k))
    np.testing.assert_allclose(got, reference.joint_mi_bits(theta, s, k), rtol=1e-5, atol=1e-7)


def test_single_unit_per_unit_equals_joint():
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, m=1)
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
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, k=2)
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
    rng = np.random.default_rng(1234)
    codes = (rng.uniform(size=(200, 3)) < 0.4).astype("float32")
    s = rng.integers(0, 3, size=200)
    got = float(information.counting_mutual_information(codes, s, 3))
    np.testing.assert_allclose(got, reference.counting_mi_bits(codes, s), rtol=1e-5, atol=1e-6)
    h = float(information.counting_entropy(codes))
    _, counts = np.unique(codes, axis=0, return_counts=True)
    np.testing.assert_allclose(h, reference.entropy_bits(counts / counts.sum()), rtol=1e-5)


def test_sampled_joint_is_unbiased_for_the_batch_mixture():
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=32, m=4, k=3, sharp=True)
    exact = float(information.exact_joint_mutual_information(theta, s, 3))
    estimate = tf.function(lambda c: information.sampled_joint_mutual_information(theta, c, s, 3))
    draws = np.array(
        [
            float(estimate((rng.uniform(size=theta.shape) < theta).astype("float32")))
            for _ in range(2000)
        ]
    )
    standard_error = draws.std() / np.sqrt(draws.size)
    # Unbiased: the mean of 2000 independent draws lies within 4 standard errors of the
    # exact value (a false alarm has probability < 1e-4 under the normal approximation).
    assert abs(draws.mean() - exact) < 4 * standard_error


def test_joint_dispatches_on_width():
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, m=3)
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
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=12, m=3, k=2)
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


def _bernoulli_autodiff_and_closed_form(theta, s, k):
    """Value and gradient of the closed-form BinaryBernoulli term and of its autodiff reference."""
    theta = tf.constant(theta)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(theta)
        reference_value = tf.reduce_sum(information.per_unit_mutual_information(theta, s, k))
        value = information.bernoulli_mutual_information(theta, s, k)
    return (
        float(value),
        float(reference_value),
        tape.gradient(value, theta).numpy(),
        tape.gradient(reference_value, theta).numpy(),
    )


@pytest.mark.parametrize("case", ["interior", "saturated", "absent-group"])
def test_bernoulli_closed_form_gradient_equals_autodiff_of_the_plain_formula(case):
    # The term used as a loss carries a hand-written gradient; the reference is the same
    # quantity written op by op (per-unit entropies) under autodiff.
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=48, m=6, k=3)
    if case == "saturated":
        theta[:6, :2], theta[6:12, 3] = 1.0, 0.0  # log(0) floors
    if case == "absent-group":
        s = np.minimum(s, 1)  # group 2 of 3 never occurs
    value, expected, gradient, expected_gradient = _bernoulli_autodiff_and_closed_form(theta, s, 3)
    # float32 sums of ~50 terms of size <= 1 bit: 1e-5 absolute.
    assert value == pytest.approx(expected, abs=1e-5)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, expected_gradient, atol=2e-4, rtol=1e-3)


def _joint_total_float64(codes, s, logits, k):
    """Float64 reference: the batch-mixture log-ratio sum, written with plain TF ops.

    Returns the value and its gradients with respect to the logits and the codes.
    """
    logits, codes = tf.constant(logits, tf.float64), tf.constant(codes, tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([logits, codes])
        log_p1, log_p0 = tf.math.log_sigmoid(logits), tf.math.log_sigmoid(-logits)
        log_lik = tf.matmul(codes, log_p1, transpose_b=True) + tf.matmul(
            1.0 - codes, log_p0, transpose_b=True
        )
        same = s[:, None] == s[None, :]
        sizes = tf.reduce_sum(tf.cast(same, tf.float64), axis=1)
        conditional = tf.reduce_logsumexp(tf.where(same, log_lik, -np.inf), 1) - tf.math.log(sizes)
        marginal = tf.reduce_logsumexp(log_lik, 1) - np.log(len(s))
        total = tf.reduce_sum(conditional - marginal) / np.log(2.0)
    return float(total), tape.gradient(total, logits).numpy(), tape.gradient(total, codes).numpy()


def _joint_total_float32(codes, s, logits, k, compiled="eager", **kwargs):
    """Value and gradients of the closed form, run eagerly, in a tf.function or under XLA.

    The (persistent) tape stays outside the function, as in a custom training loop.
    """
    total = lambda c, z: information.sampled_joint_total(c, s, z, s, k, **kwargs)  # noqa: E731
    if compiled != "eager":
        total = tf.function(total, jit_compile=compiled == "xla")
    logits, codes = tf.constant(logits, tf.float32), tf.constant(codes, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([logits, codes])
        value = total(codes, logits)
    return float(value), tape.gradient(value, logits).numpy(), tape.gradient(value, codes).numpy()


def _assert_joint_total_matches_float64(codes, s, logits, k, atol, compiled="eager", **kwargs):
    value, d_logits, d_codes = _joint_total_float32(codes, s, logits, k, compiled, **kwargs)
    expected, expected_d_logits, expected_d_codes = _joint_total_float64(codes, s, logits, k)
    # Values of thousands of bits (the overflow case) carry float32's 1e-7 relative rounding.
    assert value == pytest.approx(expected, abs=atol, rel=1e-6)
    # Gradients scale with |logits| (up to 120 here): float32 is ~1e-5 relative on them.
    np.testing.assert_allclose(d_logits, expected_d_logits, atol=atol, rtol=3e-5)
    np.testing.assert_allclose(d_codes, expected_d_codes, atol=atol, rtol=3e-5)


@pytest.mark.parametrize("case", ["interior", "saturated", "absent-group"])
def test_sampled_joint_total_matches_a_float64_reference(case):
    rng = np.random.default_rng(1234)
    logits = rng.normal(scale=2.0, size=(48, 6)).astype("float32")
    s = rng.integers(0, 3, size=48).astype("int32")
    if case == "saturated":
        logits[:6, :2], logits[6:12, 3] = 40.0, -120.0  # theta rounds to 1 and to 0 in float32
    if case == "absent-group":
        s = np.minimum(s, 1)  # group 2 of 3 never occurs
    theta = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    codes = (rng.uniform(size=logits.shape) < theta).astype("float32")
    # Measured float32 error of the closed form: <= 1e-5 over these cases (log-likelihoods
    # up to ~250 nats carry float32 rounding of ~3e-5 nats); 5e-5 allowed.
    _assert_joint_total_matches_float64(codes, s, logits, 3, atol=5e-5)


@pytest.mark.parametrize("groups", [[0, 0, 1, 1], [0, 1, 1, 2]])
@pytest.mark.parametrize("compiled", ["eager", "graph", "xla"], ids=str)
def test_sampled_joint_total_redoes_a_batch_whose_scale_overflows(groups, compiled):
    # Codes far likelier under other examples than under their own (e**3000): the
    # exponentials scaled by the codes' own likelihood overflow (inf, and NaN where the
    # one-hot matmul multiplies inf by 0, which XLA's max/min would skip), so the estimator
    # falls back to per-group maxima: same value and gradients as the float64 reference.
    logits = np.repeat(np.array([[-5.0], [5.0], [5.0], [5.0]], "float32"), 600, axis=1)
    s = np.array(groups, "int32")
    codes = np.ones_like(logits)
    _assert_joint_total_matches_float64(codes, s, logits, max(groups) + 1, 5e-5, compiled)


@pytest.mark.parametrize("wrong_scale", [90.0, -90.0], ids=["far-too-likely", "far-too-unlikely"])
@pytest.mark.parametrize("compiled", ["eager", "xla"])
def test_sampled_joint_total_with_wrong_code_logits_still_gives_the_exact_value(
    wrong_scale, compiled
):
    # `code_logits` are only a scale. Wrong ones, far too likely (each code's own
    # log-likelihood ~0 against ~-120 nats under every reference: the own-group sums
    # underflow) or far too unlikely (~-27,000 nats: every sum overflows), send the batch
    # to the per-group-maximum fallback, which recomputes L itself: exact value and gradients.
    rng = np.random.default_rng(1234)
    logits = rng.normal(scale=2.0, size=(16, 300)).astype("float32")
    s = (np.arange(16) % 2).astype("int32")
    codes = (rng.uniform(size=logits.shape) < 1 / (1 + np.exp(-logits))).astype("float32")
    wrong = np.where(codes > 0, wrong_scale, -wrong_scale).astype("float32")
    # Log-likelihoods of ~-120 nats: float32 rounding of ~1e-5 nats per entry.
    _assert_joint_total_matches_float64(codes, s, logits, 2, 5e-5, compiled, code_logits=wrong)


@pytest.mark.parametrize("case", ["interior", "saturated", "absent-group"])
def test_sampled_joint_total_from_theta_equals_autodiff_of_the_plain_formula(case):
    # The theta form's hand-written gradient against the same quantity written op by op
    # (masked log-sum-exps of floored logs) under autodiff, with theta exactly 0 and 1.
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=48, m=6, k=3)
    if case == "saturated":
        theta[:6, :2], theta[6:12, 3] = 1.0, 0.0  # log(0) floors and 1/x cut-offs
    if case == "absent-group":
        s = np.minimum(s, 1)  # group 2 of 3 never occurs
    codes = (rng.uniform(size=theta.shape) < theta).astype("float32")
    theta, codes = tf.constant(theta), tf.constant(codes)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([theta, codes])
        expected = tf.reduce_sum(information.sampled_joint_terms(codes, s, theta, s, 3))
        value = information.sampled_joint_total_from_theta(codes, s, theta, s, 3)
    # float32 sums of ~50 terms of size <= a few bits: 1e-5 absolute; the float32 autodiff
    # reference is itself ~1e-4 off on the gradients (see the float64 test above).
    assert float(value) == pytest.approx(float(expected), abs=1e-5)
    for x in (theta, codes):
        got, want = tape.gradient(value, x).numpy(), tape.gradient(expected, x).numpy()
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-3)


def test_sampled_joint_total_is_finite_when_likelihoods_differ_by_hundreds_of_nats():
    # A wide, sharp layer (a conv feature map): codes' log-likelihoods under other examples'
    # theta are hundreds of nats below their own; exp without a scale underflows.
    rng = np.random.default_rng(1234)
    n, m = 32, 600
    theta = np.where(rng.uniform(size=(n, m)) < 0.5, 0.02, 0.98)
    logits = np.log(theta / (1 - theta)).astype("float32")
    s = (np.arange(n) % 2).astype("int32")
    codes = (rng.uniform(size=(n, m)) < theta).astype("float32")
    got = float(information.sampled_joint_total(codes, s, logits, s, 2))
    expected, _, _ = _joint_total_float64(codes, s, logits, 2)
    # Every code is far likelier under its own theta: each term is log2(n / n_s) = 1 bit.
    assert got == pytest.approx(expected, abs=1e-4)
    assert got == pytest.approx(n * 1.0, abs=1e-3)


def test_sampled_joint_from_theta_equals_from_logits():
    # The theta form recovers the logits; its value equals the logits form's.
    rng = np.random.default_rng(1234)
    logits = rng.normal(size=(30, 8)).astype("float32")
    theta = tf.sigmoid(logits).numpy()
    s = rng.integers(0, 2, size=30).astype("int32")
    codes = (rng.uniform(size=logits.shape) < theta).astype("float32")
    from_theta = float(information.sampled_joint_mutual_information(theta, codes, s, 2))
    from_logits = information.sampled_joint_mutual_information(None, codes, s, 2, logits=logits)
    # theta -> logits in float32 loses ~1e-7 relative: ~1e-6 bits on 30 terms.
    assert float(from_logits) == pytest.approx(from_theta, abs=1e-5)


def test_sampled_joint_gradient_with_unknown_static_shapes():
    # The backward pass splits a matmul at the number of units: it must work when that
    # width is only known at run time (traced with None dimensions), giving the eager result.
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=20, m=5, k=2)
    codes = (rng.uniform(size=theta.shape) < theta).astype("float32")
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


@pytest.mark.parametrize("bad_id", [-1, 2, 5])
def test_sampled_joint_gives_nan_for_ids_outside_the_groups(bad_id):
    # An id outside [0, num_groups) has no group: NaN rather than a silently wrong value
    # (the layers reject such ids with an error before this).
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=30, m=4, k=2)
    codes = (rng.uniform(size=theta.shape) < theta).astype("float32")
    s[3] = bad_id
    assert np.isnan(float(information.sampled_joint_mutual_information(theta, codes, s, 2)))


def test_bernoulli_mi_accepts_theta_of_any_rank():
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=30, m=6, k=2)
    flat = float(information.bernoulli_mutual_information(theta, s, 2))
    assert float(
        information.bernoulli_mutual_information(theta.reshape(30, 2, 3), s, 2)
    ) == pytest.approx(flat, abs=1e-6)


def test_bernoulli_closed_form_gradient_for_an_absent_group_matches_autodiff():
    # The gradient with respect to the group sums (what reaches an all-reduce under a
    # distribution strategy), including the row of a group absent from the batch.
    rng = np.random.default_rng(1234)
    theta, s = _random_batch(rng, n=30, m=4, k=3)
    s = np.minimum(s, 1)
    counts, sums = information.group_sums(theta, s, 3)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(sums)
        closed_form = information.bernoulli_mutual_information_from_sums(counts, sums)
        plain = tf.reduce_sum(information.per_unit_mutual_information_from_sums(counts, sums))
    np.testing.assert_allclose(
        tape.gradient(closed_form, sums), tape.gradient(plain, sums), atol=1e-5
    )


def test_counting_estimators_round_near_binary_codes_and_reject_others():
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2, (64, 3)).astype("float32")
    s = (np.arange(64) % 2).astype("int32")
    exact = float(information.counting_mutual_information(codes, s, 2))
    # a + stop_gradient(q - a) in float32 gives 0.99999994 for 1 and ~1e-8 for 0.
    nearly = np.where(codes == 1, np.float32(0.99999994), np.float32(3e-8)).astype("float32")
    assert float(information.counting_mutual_information(nearly, s, 2)) == exact
    assert float(information.counting_entropy(nearly)) == float(information.counting_entropy(codes))
    halves = codes.copy()
    halves[5, 1] = 0.5
    for estimate in (
        lambda c: information.counting_mutual_information(c, s, 2),
        information.counting_entropy,
    ):
        with pytest.raises(ValueError, match=r"zeros and ones.*\[0\.5\]"):
            estimate(halves)
    graph = tf.function(lambda c: information.counting_mutual_information(c, s, 2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="zeros and ones"):
        graph(halves)
