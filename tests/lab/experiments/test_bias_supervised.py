"""Group reweighting and Group DRO against hand-computed references."""

import keras
import numpy as np
import pytest

from keras_sqnn.lab.experiments.bias_supervised import GroupDROModel, inverse_frequency_weights


def test_weights_are_inverse_group_frequencies_with_mean_one():
    groups = np.array([3, 3, 3, 3, 7, 7, 9])
    weights = inverse_frequency_weights(groups, cap=1e9)
    # n / (G * n_g): 7 / (3 * 4), 7 / (3 * 2), 7 / (3 * 1), then rescaled to mean 1.
    raw = np.array([7 / 12] * 4 + [7 / 6] * 2 + [7 / 3])
    np.testing.assert_allclose(weights, raw / raw.mean())
    # Every group carries the same total weight.
    totals = [weights[groups == g].sum() for g in (3, 7, 9)]
    np.testing.assert_allclose(totals, totals[0])
    capped = inverse_frequency_weights(groups, cap=1.0)
    raw = np.minimum(raw, 1.0)
    np.testing.assert_allclose(capped, raw / raw.mean())
    with pytest.raises(ValueError, match="cap=0"):
        inverse_frequency_weights(groups, cap=0)


def tiny_network():
    features = keras.Input((2,), name="features")
    colour = keras.Input((), dtype="int32", name="sensitive", optional=True)
    out = keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")(features)
    return keras.Model({"features": features, "sensitive": colour}, out)


def test_group_dro_step_updates_q_as_algorithm_1(tmp_path):
    model = GroupDROModel(tiny_network(), num_groups=100, step_size=0.5)
    model.compile(keras.optimizers.SGD(0.0))  # weights stay: the losses are all log(10)
    x = {
        "features": np.zeros((4, 2), "float32"),
        "sensitive": np.array([0, 0, 3, 5], "int32"),
    }
    digits = np.array([0, 0, 1, 2], "int32")
    # BackupAndRestore (as the experiment uses) needs a built model before fit.
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model.fit(x, digits, batch_size=4, epochs=1, verbose=0, callbacks=[backup])
    q = np.full(100, 0.01)
    for group in (0, 13, 25):  # digit * 10 + colour of the groups present
        q[group] *= np.exp(0.5 * np.log(10))
    np.testing.assert_allclose(model.q.numpy(), q / q.sum(), rtol=1e-5)


def _fit(step_size, features, colours, digits):
    keras.utils.set_random_seed(0)
    model = GroupDROModel(tiny_network(), num_groups=100, step_size=step_size)
    model.compile(keras.optimizers.Adam(0.05))
    inputs = {"features": features, "sensitive": colours}
    model.fit(inputs, digits, batch_size=200, epochs=30, verbose=0)
    predicted = model.predict(inputs, verbose=0).argmax(axis=1)
    return model, float(np.mean(predicted[:10] == digits[:10]))


def test_group_dro_fits_the_minority_group_that_plain_training_ignores(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 2)).astype("float32")
    digits = (features[:, 0] > 0).astype("int32")
    # Ten images whose digit follows the second feature instead, on their own colour.
    digits[:10] = (features[:10, 1] > 0).astype("int32") + 2
    colours = np.where(np.arange(200) < 10, 7, 0).astype("int32")
    _, plain = _fit(1e-9, features, colours, digits)  # q stays uniform: plain training
    model, robust = _fit(1.0, features, colours, digits)
    assert robust > plain
    assert model.q.numpy().sum() == pytest.approx(1.0, rel=1e-5)
    model.save(tmp_path / "dro.keras")
    loaded = keras.models.load_model(tmp_path / "dro.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.q.numpy(), model.q.numpy())
    inputs = {"features": features, "sensitive": colours}
    np.testing.assert_allclose(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6
    )
