"""How S reaches a SensitiveSequential: input forms, host-side checks of S, encode_groups."""

import keras
import numpy as np
import pandas as pd
import pytest

import keras_sqnn
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential


def _model(features=10, num_groups=2):
    model = SensitiveSequential(
        [
            keras.Input((features,)),
            keras.layers.Dense(8, activation="relu"),
            StochasticBinaryDense(
                4, mi_estimator="bernoulli", gamma=0.5, num_groups=num_groups, seed=0, name="sbd"
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("sgd", "binary_crossentropy")
    return model


def _data(n=32, features=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, (rng.random(n) > 0.5).astype("float32"), (np.arange(n) % 2).astype("int32")


def test_features_of_another_width_are_rejected_at_fit_as_keras_sequential_does():
    model = _model(features=10)
    x, y, s = _data(features=9)
    with pytest.raises(ValueError, match=r"expected features of shape \(None, 10\).*\(\w+, 9\)"):
        model.fit({"features": x, "sensitive": s}, y, verbose=0)


def test_a_tuple_of_features_and_sensitive_trains_like_the_dict():
    x, y, s = _data()
    logs = []
    for inputs in ({"features": x, "sensitive": s}, (x, s)):
        keras.utils.set_random_seed(0)
        history = _model().fit(inputs, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
        logs.append(history.history)
    assert logs[0]["sbd_mi"] == pytest.approx(logs[1]["sbd_mi"])
    assert logs[0]["loss"] == pytest.approx(logs[1]["loss"])


def test_wrong_keys_name_the_expected_ones():
    x, y, s = _data()
    with pytest.raises(ValueError, match='"features" and optionally "sensitive".*group'):
        _model().fit({"features": x, "group": s}, y, verbose=0)


def test_evaluate_without_s_logs_no_mi_and_with_s_logs_it():
    x, y, s = _data()
    model = _model()
    model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0)
    without = model.evaluate(x, y, verbose=0, return_dict=True)
    with_s = model.evaluate({"features": x, "sensitive": s}, y, verbose=0, return_dict=True)
    assert "sbd_mi" not in without and "loss" in without
    assert "sbd_mi" in with_s


@pytest.mark.parametrize(
    ("sensitive", "error", "match"),
    [
        pytest.param(np.full(32, 2), ValueError, r"values in \[0, 2\).*\[2\]", id="out-of-range"),
        pytest.param(np.full(32, -1), ValueError, r"\[-1\]", id="negative"),
        pytest.param(
            np.tile([0.0, 0.5], 16), ValueError, r"not integers, e\.g\. \[0\.5\]", id="frac"
        ),
        pytest.param(np.array(["a", "b"] * 16), TypeError, "encode_groups", id="strings"),
    ],
)
def test_bad_numpy_s_fails_on_the_host_before_any_step(sensitive, error, match):
    x, y, _ = _data()
    model = _model()
    model.build((None, 10))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=match):
        model.fit({"features": x, "sensitive": sensitive}, y, verbose=0)
    with pytest.raises(error, match=match):
        model.evaluate({"features": x, "sensitive": sensitive}, y, verbose=0)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_integral_float_and_pandas_s_are_cast_to_the_same_ids():
    x, y, s = _data()
    histories = []
    for sensitive in (s, s.astype("float64"), pd.Series(s)):
        keras.utils.set_random_seed(0)
        model = _model()
        histories.append(
            model.fit({"features": x, "sensitive": sensitive}, y, shuffle=False, verbose=0).history
        )
    assert histories[0]["sbd_mi"] == pytest.approx(histories[1]["sbd_mi"])
    assert histories[0]["sbd_mi"] == pytest.approx(histories[2]["sbd_mi"])


def test_out_of_range_validation_s_fails_before_training():
    x, y, s = _data()
    with pytest.raises(ValueError, match=r"\[7\]"):
        _model().fit(
            {"features": x, "sensitive": s},
            y,
            validation_data=({"features": x, "sensitive": np.full(32, 7)}, y),
            verbose=0,
        )


def test_encode_groups_from_strings_booleans_and_categoricals():
    ids, categories = keras_sqnn.encode_groups(["b", "a", "b", "c"])
    assert ids.tolist() == [1, 0, 1, 2] and categories == ["a", "b", "c"]
    assert ids.dtype == np.int32
    ids, categories = keras_sqnn.encode_groups(np.array([True, False, True]))
    assert ids.tolist() == [1, 0, 1] and categories == [False, True]
    series = pd.Series(["x", "z", "x"], dtype=pd.CategoricalDtype(["z", "y", "x"]))
    ids, categories = keras_sqnn.encode_groups(series)
    # Pandas' own category order, unused categories kept: num_groups = 3.
    assert ids.tolist() == [2, 0, 2] and categories == ["z", "y", "x"]
    with pytest.raises(ValueError, match="missing"):
        keras_sqnn.encode_groups(pd.Series(["a", None], dtype="category"))
    # The encoded ids train.
    x, y, _ = _data(n=4)
    ids, categories = keras_sqnn.encode_groups(["m", "f", "f", "m"])
    _model(num_groups=len(categories)).fit({"features": x, "sensitive": ids}, y, verbose=0)


def test_encode_groups_is_the_metrics_encoding_of_one_column():
    from keras_sqnn import validation

    values = np.array(["m", "f", "x", "f"])
    ids, categories = keras_sqnn.encode_groups(values)
    codes, groups = validation.encode_groups(values, min_groups=1)
    assert ids.tolist() == codes.tolist() and categories == groups.tolist()
    # One attribute at a time: several columns are for the metrics' intersections.
    with pytest.raises(ValueError, match=r"`values` to be 1-D"):
        keras_sqnn.encode_groups(np.zeros((4, 2)))


def test_fit_warns_when_the_tradeoff_loss_and_a_layer_disagree_on_gamma():
    import warnings

    from keras_sqnn.losses import TradeoffLoss

    x, y, s = _data()
    model = _model()
    model.compile("adam", TradeoffLoss("binary_crossentropy", gamma=0.2))
    with pytest.warns(UserWarning, match=r"gamma=0\.2, but layer 'sbd'.*gamma=0\.5"):
        model.fit({"features": x, "sensitive": s}, y, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for loss in (TradeoffLoss("binary_crossentropy", gamma=0.5), "binary_crossentropy"):
            model = _model()
            model.compile("adam", loss)
            model.fit({"features": x, "sensitive": s}, y, verbose=0)


def test_a_saved_model_reloads_compiled_with_its_optimizer_state(tmp_path):
    x, y, s = _data()
    model = _model()
    model.fit({"features": x, "sensitive": s}, y, batch_size=16, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert int(reloaded.optimizer.iterations) == 2
    logs = reloaded.evaluate(
        {"features": x, "sensitive": s}, y, batch_size=32, verbose=0, return_dict=True
    )
    assert np.isfinite(logs["loss"]) and "sbd_mi" in logs
    reloaded.fit({"features": x, "sensitive": s}, y, batch_size=16, verbose=0)
    assert int(reloaded.optimizer.iterations) == 4


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_features_stop_fit_even_without_a_regularized_layer(value):
    # A ReLU of -inf is 0: without the model's own check the bad row would train silently.
    x, y, s = _data()
    x[3, 2] = -value if value == np.inf else value
    model = SensitiveSequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(4, activation="relu", kernel_initializer="ones"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("sgd", "binary_crossentropy")
    model.build((None, 10))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(Exception, match="not finite"):
        model.fit({"features": x, "sensitive": s}, y, batch_size=32, verbose=0)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_several_attributes_are_checked_on_the_host_column_by_column():
    x, y, _ = _data()
    model = SensitiveSequential(
        [
            keras.Input((10,)),
            StochasticBinaryDense(4, mi_estimator="bernoulli", gamma=0.5, num_groups=(2, 3)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("sgd", "binary_crossentropy")
    columns = np.stack([np.arange(32) % 2, np.arange(32) % 3], axis=1)
    model.fit({"features": x, "sensitive": columns}, y, verbose=0)
    columns[7, 1] = 3
    with pytest.raises(ValueError, match=r"\[3\]"):
        model.fit({"features": x, "sensitive": columns}, y, verbose=0)


def test_several_attributes_log_their_mi_in_training_and_nothing_without_s():
    x, y, _ = _data()
    model = SensitiveSequential(
        [
            keras.Input((10,)),
            StochasticBinaryDense(
                4, mi_estimator="bernoulli", gamma=0.5, num_groups=(2, 3), name="sbd"
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("sgd", "binary_crossentropy")
    columns = np.stack([np.arange(32) % 2, np.arange(32) % 3], axis=1)
    history = model.fit({"features": x, "sensitive": columns}, y, batch_size=32, verbose=0)
    # Two attributes of random features: the per-attribute MI of a batch is small, not 0.
    assert history.history["sbd_mi_0"][0] > 0 and history.history["sbd_mi_1"][0] > 0
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert not any("_mi" in key for key in logs)


def test_a_layer_conditioning_on_labels_predicts_from_s_without_labels():
    x, y, s = _data()
    model = SensitiveSequential(
        [
            keras.Input((10,)),
            StochasticBinaryDense(
                4, mi_estimator="bernoulli", gamma=0.5, condition_on="labels", name="sbd"
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("sgd", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, verbose=0)
    assert model.predict({"features": x, "sensitive": s}, verbose=0).shape == (32, 1)
    # Soft targets are not class ids: refused on the host, before any step.
    with pytest.raises(ValueError, match=r"`labels`.*not integers"):
        model.fit((x, s), np.full(32, 0.3), verbose=0)


def test_a_numpy_integer_seed_is_accepted():
    layer = StochasticBinaryDense(4, seed=np.int64(4))
    assert layer.seed == 4 and type(layer.seed) is int
