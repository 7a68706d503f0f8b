"""I(T; S | Y) (condition_on="labels") and several sensitive attributes (num_groups tuple)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn import information
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential
from tests import reference

ESTIMATORS = ["bernoulli", "joint"]


def _batch(n=48, features=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    s = (rng.random(n) < 0.3 + 0.2 * y).astype("int32")  # S correlated with Y
    x = (rng.normal(size=(n, features)) + s[:, None] - y[:, None]).astype("float32")
    return x, s, y.astype("int32")


def _layer(estimator, **kwargs):
    return StochasticBinaryDense(4, mi_estimator=estimator, gamma=0.5, seed=0, name="sbd", **kwargs)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_conditional_mi_matches_brute_force(estimator):
    x, s, y = _batch()
    layer = _layer(estimator, condition_on="labels", num_classes=3)
    layer(x, sensitive=s, labels=y, training=True)
    theta = layer.probabilities(x).numpy()
    if estimator == "joint":
        expected = reference.conditional_joint_mi_bits(theta, s, y, 2, 3)
    else:
        expected = reference.per_unit_conditional_mi_bits(theta, s, y, 2, 3).sum()
    # float32 differences of ~1-bit entropies: 1e-5 absolute.
    assert float(layer.losses[0]) == pytest.approx(0.5 * expected, abs=1e-5)
    # The identity the layer uses, and the chain rule: sum_y p(y) I(T; S | Y = y).
    by_class = sum(
        np.mean(y == c) * reference.joint_mi_bits(theta[y == c], s[y == c], 2) for c in range(3)
    )
    if estimator == "joint":
        assert expected == pytest.approx(by_class, abs=1e-9)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_a_code_that_depends_on_s_only_through_y_has_no_conditional_information(estimator):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200).astype("int32")
    s = np.where(rng.random(200) < 0.9, y, 1 - y).astype("int32")  # S mostly equals Y
    x = (3.0 * y[:, None] + np.zeros((200, 2))).astype("float32")  # the inputs carry Y only
    plain = _layer(estimator, kernel_initializer="ones")
    conditional = _layer(estimator, kernel_initializer="ones", condition_on="labels")
    plain(x, sensitive=s, training=True)
    conditional(x, sensitive=s, labels=y, training=True)
    assert float(plain.losses[0]) > 0.1  # I(T; S) > 0 ...
    assert abs(float(conditional.losses[0])) < 1e-5  # ... but I(T; S | Y) = 0


def test_conditional_mi_gradient_matches_finite_differences():
    x, s, y = _batch(n=24)
    theta = tf.Variable(tf.sigmoid(x[:, :3] - 0.5))

    def value(t):
        def estimate(ids, k):
            return information.exact_joint_mutual_information(t, ids, k)

        return information.conditional_mutual_information(estimate, s, y, 2, 3)

    with tf.GradientTape() as tape:
        mi = value(theta)
    gradient = tape.gradient(mi, theta).numpy()
    assert np.all(np.isfinite(gradient))
    base = theta.numpy().astype(np.float64)
    for row, unit in [(0, 0), (5, 1), (17, 2)]:
        bumped = [base.copy(), base.copy()]
        bumped[0][row, unit] += 1e-3
        bumped[1][row, unit] -= 1e-3
        finite = (
            reference.conditional_joint_mi_bits(bumped[0], s, y, 2, 3)
            - reference.conditional_joint_mi_bits(bumped[1], s, y, 2, 3)
        ) / 2e-3
        # Central differences of a float64 reference against a float32 gradient: 1e-3.
        assert gradient[row, unit] == pytest.approx(finite, abs=1e-3)


def test_sensitive_sequential_routes_its_targets_as_labels():
    x, s, y = _batch(n=64)
    model = SensitiveSequential(
        [
            keras.Input((3,)),
            _layer("bernoulli", condition_on="labels", num_classes=3),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    history = model.fit({"features": x, "sensitive": s}, y, batch_size=64, verbose=0)
    theta = model.get_layer("sbd").probabilities(x).numpy()
    expected = reference.per_unit_conditional_mi_bits(theta, s, y, 2, 3).sum()
    # Learning rate 0: the logged MI of the one step is the conditional MI of the batch.
    assert history.history["sbd_mi"][0] == pytest.approx(expected, abs=1e-5)
    logs = model.evaluate(
        {"features": x, "sensitive": s}, y, batch_size=64, verbose=0, return_dict=True
    )
    assert logs["sbd_mi"] == pytest.approx(expected, abs=1e-5)
    assert model(x).shape == (64, 3)  # serving: features only


def test_float_and_one_hot_labels():
    x, s, y = _batch()
    layer = _layer("bernoulli", condition_on="labels", num_classes=3)
    layer(x, sensitive=s, labels=y.astype("float32"), training=True)  # whole numbers: ids
    with pytest.raises(ValueError, match=r"labels.*\[0, 3\).*0\.5"):
        layer(x, sensitive=s, labels=np.full(len(y), 0.5, "float32"), training=True)
    with pytest.raises(ValueError, match=r"labels.*shape \(batch,\) or \(batch, 1\)"):
        layer(x, sensitive=s, labels=np.eye(3)[y], training=True)
    with pytest.raises(ValueError, match="labels=None"):
        layer(x, sensitive=s, training=True)
    with pytest.raises(ValueError, match="condition_on='y'"):
        _layer("bernoulli", condition_on="y")


def test_config_and_saving_round_trip(tmp_path):
    layer = _layer("joint", condition_on="labels", num_classes=4, num_groups=(2, 3))
    clone = StochasticBinaryDense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.num_groups == (2, 3) and clone.condition_on == "labels"
    x_in = keras.Input((3,), name="features")
    s_in = keras.Input((2,), dtype="int32", name="sensitive")
    y_in = keras.Input((), dtype="int32", name="labels")
    out = keras.layers.Dense(1)(layer(x_in, sensitive=s_in, labels=y_in))
    model = keras.Model({"features": x_in, "sensitive": s_in, "labels": y_in}, out)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True).get_layer("sbd")
    assert reloaded.get_config() == layer.get_config()


# --- several sensitive attributes -------------------------------------------------------


def _two_attributes(n=60, seed=2):
    rng = np.random.default_rng(seed)
    columns = np.stack([rng.integers(0, 2, n), rng.integers(0, 3, n)], axis=1).astype("int32")
    x = (rng.normal(size=(n, 3)) + columns[:, :1] - columns[:, 1:]).astype("float32")
    return x, columns


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_intersectional_mi_is_the_mi_with_the_joint_attribute(estimator):
    x, columns = _two_attributes()
    layer = _layer(estimator, num_groups=(2, 3))
    layer(x, sensitive=columns, training=True)
    theta = layer.probabilities(x).numpy()
    joint_ids = columns[:, 0] + 2 * columns[:, 1]
    if estimator == "joint":
        expected = reference.joint_mi_bits(theta, joint_ids, 6)
    else:
        expected = reference.per_unit_mi_bits(theta, joint_ids, 6).sum()
    assert float(layer.losses[0]) == pytest.approx(0.5 * expected, abs=1e-5)


def test_evaluation_logs_each_attribute_alone():
    x, columns = _two_attributes()
    x_in = keras.Input((3,), name="features")
    s_in = keras.Input((2,), dtype="int32", name="sensitive")
    out = keras.layers.Dense(1, activation="sigmoid")(
        _layer("bernoulli", num_groups=(2, 3))(x_in, sensitive=s_in)
    )
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    model.compile("sgd", "binary_crossentropy")
    logs = model.evaluate(
        {"features": x, "sensitive": columns},
        np.zeros(60),
        batch_size=60,  # one batch: the logged value is that batch's MI
        verbose=0,
        return_dict=True,
    )
    theta = model.get_layer("sbd").probabilities(x).numpy()
    for i, groups in enumerate((2, 3)):
        expected = reference.per_unit_mi_bits(theta, columns[:, i], groups).sum()
        assert logs[f"sbd_mi_{i}"] == pytest.approx(expected, abs=1e-5)


def test_intersectional_errors_and_empty_intersections():
    x, columns = _two_attributes()
    layer = _layer("bernoulli", num_groups=(2, 3))
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        layer(x, sensitive=columns[:, :1], training=True)
    bad = columns.copy()
    bad[4, 1] = 3
    with pytest.raises(ValueError, match=r"\[0, \(2, 3\)\).*\(\d, 3\)"):
        layer(x, sensitive=bad, training=True)
    with pytest.raises(ValueError, match="num_groups"):
        _layer("bernoulli", num_groups=(2, 1))
    # Only 3 of the 6 intersections occur: the absent ones are skipped, not NaN.
    few = np.stack([np.arange(60) % 2, np.arange(60) % 2], axis=1).astype("int32")
    layer(x, sensitive=few, training=True)
    assert np.isfinite(float(layer.losses[0]))
    theta = layer.probabilities(x).numpy()
    expected = reference.per_unit_mi_bits(theta, few[:, 0] + 2 * few[:, 1], 6).sum()
    assert float(layer.losses[0]) == pytest.approx(0.5 * expected, abs=1e-5)


def test_fairness_tools_feed_y_to_a_functional_model_with_a_labels_input():
    from keras_sqnn.metrics import evaluate_fairness, information_report

    x, s, y = _batch(n=120)
    y = (y > 0).astype("int32")  # binary, as the fairness metrics need
    x_in = keras.Input((3,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    y_in = keras.Input((), dtype="int32", name="labels")
    codes = _layer("bernoulli", condition_on="labels")(x_in, sensitive=s_in, labels=y_in)
    out = keras.layers.Dense(1, activation="sigmoid")(codes)
    model = keras.Model({"features": x_in, "sensitive": s_in, "labels": y_in}, out)
    full = {"features": x, "sensitive": s, "labels": y}
    report = evaluate_fairness(model, x, y, sensitive_features=s)
    # The same as passing the whole input dict by hand.
    assert report["auc"] == pytest.approx(
        evaluate_fairness(model, full, y, sensitive_features=s)["auc"]
    )
    assert len(information_report(model, x, y, sensitive_features=s, n_samples=2)) == 1
    with pytest.raises(ValueError, match="Expected `y`"):
        information_report(model, x, sensitive_features=s, n_samples=2)
