import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_sqnn
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
