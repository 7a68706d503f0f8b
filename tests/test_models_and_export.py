import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import keras_sqnn
import keras_sqnn.export
from keras_sqnn.datasets import TabularPreprocessor
from keras_sqnn.export import signature_name
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.losses import TradeoffLoss
from keras_sqnn.models import SensitiveSequential


def _data(n=128, features=6, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n).astype("int32")
    x = (rng.normal(size=(n, features)) + s[:, None]).astype("float32")
    y = (x[:, 1] + 0.5 * rng.normal(size=n) > 0.5).astype("float32")
    return x, y, s


def _sensitive_sequential():
    model = SensitiveSequential(name="sqnn")
    model.add(keras.Input((6,)))
    model.add(keras.layers.Dense(16, activation="relu"))
    model.add(StochasticBinaryDense(8, mi_estimator="bernoulli", gamma=0.3, seed=1, name="sbd"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model


def _load_in_fresh_process(path, x):
    """Serve the SavedModel in a process that never imports keras_sqnn (nor keras)."""
    np.save(path.parent / "x.npy", x)
    script = textwrap.dedent(
        f"""
        import sys, numpy as np, tensorflow as tf
        served = tf.saved_model.load({str(path)!r})
        out = served.serve(tf.constant(np.load({str(path.parent / "x.npy")!r})))
        np.save({str(path.parent / "served.npy")!r}, out.numpy())
        assert "keras_sqnn" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=path.parent)
    return np.load(path.parent / "served.npy")


def test_sensitive_sequential_fits_with_s_in_the_data_and_reloads(tmp_path):
    x, y, s = _data()
    model = _sensitive_sequential()
    model.compile("adam", "binary_crossentropy")
    history = model.fit({"features": x, "sensitive": s}, y, epochs=2, verbose=0)
    assert history.history["sbd_mi"][-1] > 0
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(reloaded, SensitiveSequential)
    np.testing.assert_allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    # The regularizer still trains after the reload.
    reloaded.compile("adam", "binary_crossentropy")
    assert "sbd_mi" in reloaded.fit({"features": x, "sensitive": s}, y, verbose=0).history


def test_sensitive_sequential_without_s_still_needs_it_for_the_regularizer():
    x, y, _ = _data()
    model = _sensitive_sequential()
    model.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match="sensitive=None"):
        model.fit(x, y, verbose=0)


def test_sensitive_sequential_rejects_unknown_keys_and_late_layers():
    model = _sensitive_sequential()
    x, _, s = _data(8)
    with pytest.raises(ValueError, match="keys"):
        model({"features": x, "group": s})
    model(x)
    with pytest.raises(ValueError, match="already built"):
        model.add(keras.layers.Dense(2))


def test_sensitive_sequential_export_serves_features_only(tmp_path):
    x, y, s = _data()
    model = _sensitive_sequential()
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0)
    path = tmp_path / "export"
    model.export(str(path), verbose=False)
    np.testing.assert_allclose(
        _load_in_fresh_process(path, x), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_export_serving_of_a_functional_model(tmp_path):
    x, y, s = _data()
    x_in = keras.Input((6,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = StochasticBinaryDense(8, mi_estimator="joint", gamma=0.2, seed=0)(x_in, sensitive=s_in)
    model = keras.Model(
        {"features": x_in, "sensitive": s_in}, keras.layers.Dense(1, activation="sigmoid")(t)
    )
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0)
    path = tmp_path / "export"
    keras_sqnn.export_serving(model, str(path))
    expected = model.predict({"features": x, "sensitive": s}, verbose=0)
    np.testing.assert_allclose(_load_in_fresh_process(path, x), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="features='x'"):
        keras_sqnn.export_serving(model, str(tmp_path / "other"), features="x")


@pytest.mark.parametrize("gamma", [0.25, 1.0])
def test_tradeoff_loss_gives_the_papers_objective(gamma):
    x, y, s = _data(64)
    layer = StochasticBinaryDense(4, mi_estimator="bernoulli", gamma=gamma, seed=0)
    x_in = keras.Input((6,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    out = keras.layers.Dense(1, activation="sigmoid")(layer(x_in, sensitive=s_in))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    loss = TradeoffLoss("binary_crossentropy", gamma=gamma)
    model.compile("sgd", loss)
    inputs = {"features": x, "sensitive": s}
    # Same seed state for the two forward passes: reset the generator between them.
    state = layer.seed_generator.state.numpy()
    y_pred = model(inputs, training=True)
    mi = float(model.losses[0]) / gamma
    task = float(keras.losses.binary_crossentropy(y[:, None], y_pred).numpy().mean())
    layer.seed_generator.state.assign(state)
    total = float(model.compute_loss(inputs, y[:, None], model(inputs, training=True)))
    assert total == pytest.approx(gamma * mi + (1 - gamma) * task, rel=1e-5)
    clone = TradeoffLoss.from_config(loss.get_config())
    assert clone.gamma == gamma
    with pytest.raises(ValueError, match="gamma=1.5"):
        TradeoffLoss("mse", gamma=1.5)


def _table(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "job-type": rng.choice(["clerk", "nurse", "pilot"], n),
            "grade": rng.integers(1, 4, n),  # a categorical column of integers
            "hours": rng.normal(40.0, 10.0, n),
        }
    )


def _raw_feed(frame, preprocessor):
    """Raw columns as the serving signature takes them: float64 numbers, strings."""
    feed = {name: tf.constant(frame[name].to_numpy("float64")) for name in preprocessor.continuous}
    for name in preprocessor.categorical:
        feed[name] = tf.constant(frame[name].astype(str).to_numpy().astype(bytes))
    return feed


@pytest.mark.parametrize("continuous", [["age", "hours"], ["age"]])
def test_preprocessor_as_keras_model_encodes_like_transform(continuous):
    train = _table()
    preprocessor = TabularPreprocessor(categorical=["job-type", "grade"], continuous=continuous)
    preprocessor.fit(train)
    rows = _table(10, seed=1)
    rows.loc[0, "job-type"] = "astronaut"  # unseen: all zeros, as transform gives
    rows.loc[1, "grade"] = 9
    encoder = preprocessor.as_keras_model()
    encoded = encoder({k: v[:, None] for k, v in _raw_feed(rows, preprocessor).items()})
    assert encoded.dtype == "float32"
    # Equal up to float32 rounding: Normalization divides by sqrt(scale**2).
    np.testing.assert_allclose(encoded.numpy(), preprocessor.transform(rows), rtol=1e-6, atol=1e-7)
    assert encoded.numpy()[0, len(continuous) : len(continuous) + 3].tolist() == [0, 0, 0]


def _functional_model(width):
    x_in = keras.Input((width,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = StochasticBinaryDense(8, mi_estimator="joint", gamma=0.2, seed=0)(x_in, sensitive=s_in)
    return keras.Model(
        {"features": x_in, "sensitive": s_in}, keras.layers.Dense(1, activation="sigmoid")(t)
    )


def _sequential_model(width):
    return SensitiveSequential(
        [
            keras.Input((width,)),
            keras.layers.Dense(16, activation="relu"),
            StochasticBinaryDense(8, mi_estimator="bernoulli", gamma=0.3, seed=1),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@pytest.mark.parametrize("build", [_sequential_model, _functional_model])
def test_tabular_serving_takes_raw_columns_by_name_and_encoded_features(build, tmp_path):
    train = _table(128)
    preprocessor = TabularPreprocessor(
        categorical=["job-type", "grade"], continuous=["age", "hours"]
    ).fit(train)
    x = preprocessor.transform(train)
    s = (train["age"] > 40).to_numpy("int32")
    y = (train["hours"] > 40).to_numpy("float32")
    model = build(x.shape[1])
    model.compile("adam", "binary_crossentropy")
    model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0)
    path = tmp_path / "serving"
    keras_sqnn.export.export_tabular_serving(model, preprocessor, str(path))

    rows = _table(20, seed=2)
    rows.loc[0, "job-type"] = "astronaut"
    encoded = preprocessor.transform(rows)
    # S is not used at inference (training=False); the functional model still wants it.
    expected = model.predict({"features": encoded, "sensitive": np.zeros(20, "int32")}, verbose=0)
    served = tf.saved_model.load(str(path))
    default = served.signatures["serving_default"]
    assert sorted(default.structured_input_signature[1]) == ["age", "grade", "hours", "job_type"]
    by_name = {signature_name(k): v for k, v in _raw_feed(rows, preprocessor).items()}
    (by_signature,) = default(**by_name).values()
    np.testing.assert_allclose(by_signature.numpy(), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        served.serve(_raw_feed(rows, preprocessor)).numpy(), expected, rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        served.serve_features(tf.constant(encoded)).numpy(), expected, rtol=0, atol=1e-6
    )


def test_tabular_serving_refuses_columns_that_share_a_signature_argument(tmp_path):
    train = pd.DataFrame({"a-b": [1.0, 2.0], "a_b": [3.0, 5.0]})
    preprocessor = TabularPreprocessor(categorical=[], continuous=["a-b", "a_b"]).fit(train)
    with pytest.raises(ValueError, match=r"\['a-b', 'a_b'\]"):
        keras_sqnn.export.export_tabular_serving(
            _sequential_model(2), preprocessor, str(tmp_path / "serving")
        )
