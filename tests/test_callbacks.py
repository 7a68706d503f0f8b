"""Tests of InformationMonitor: values in `logs`, History, the progress bar and TensorBoard."""

from __future__ import annotations

import glob
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.callbacks import InformationMonitor
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.metrics import auc, audc, gpa
from tests.reference import joint_mi_bits

N = 256
KEYS = [
    "val_representation_mi_ts",
    "val_representation_mi_ty",
    "val_auc",
    "val_gpa",
    "val_audc",
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, N)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    x[:, 0] += s
    y = (x[:, 1] + 0.5 * s + rng.normal(0, 0.5, N) > 0.25).astype(np.int64)
    return x, y, s


def small_classifier(**changes):
    config = SQNNConfig(n_hidden=2, hidden_size=4, learning_rate=1e-2, batch_size=64, **changes)
    # Compiled with a metric named "auc": it logs "auc", and "val_auc" only under
    # fit(validation_data=...), which the tests below do not pass (except to test the clash).
    return build_sqnn_classifier(4, config, seed=0)


def representation_theta(model, x):
    """Independent NumPy forward pass: ReLU Dense, then sigmoid of the stochastic layer."""
    kernel, bias = model.stack[0].get_weights()
    t_kernel, t_bias = model.get_layer("representation").get_weights()
    hidden = np.maximum(x @ kernel + bias, 0.0)
    return 1.0 / (1.0 + np.exp(-(hidden @ t_kernel + t_bias)))


def read_scalars(log_dir):
    """{tag: {step: value}} of the scalar summaries in a TensorBoard run directory."""
    scalars: dict[str, dict[int, float]] = {}
    for path in glob.glob(os.path.join(log_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.HasField("tensor"):
                    number = float(tf.make_ndarray(value.tensor))
                else:
                    number = float(value.simple_value)
                scalars.setdefault(value.tag, {})[int(event.step)] = number
    return scalars


def test_values_reach_history_and_a_tensorboard_placed_after(data, tmp_path):
    x, y, s = data
    model = small_classifier()
    monitor = InformationMonitor(validation_data=(x, y, s), every=1)
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path), write_graph=False)
    history = model.fit(
        {"features": x, "sensitive": s}, y, epochs=2, verbose=0, callbacks=[monitor, board]
    )
    for key in KEYS:
        assert len(history.history[key]) == 2, key

    # The last epoch's values are those of the final model, checked against references.
    last = {key: history.history[key][-1] for key in KEYS}
    theta = representation_theta(model, x)
    assert last["val_representation_mi_ts"] == pytest.approx(joint_mi_bits(theta, s, 2), abs=1e-5)
    assert last["val_representation_mi_ty"] == pytest.approx(joint_mi_bits(theta, y, 2), abs=1e-5)
    scores = model.predict(x, verbose=0).ravel()
    assert last["val_auc"] == pytest.approx(auc(y, scores))
    assert last["val_gpa"] == pytest.approx(gpa(y, scores, sensitive_features=s))
    assert last["val_audc"] == pytest.approx(audc(y, scores, sensitive_features=s))
    assert 0.5 < last["val_auc"] <= 1.0

    # TensorBoard files "val_*" keys in its validation run, without the prefix.
    scalars = read_scalars(os.path.join(str(tmp_path), "validation"))
    for key in KEYS:
        tag = "epoch_" + key[len("val_") :]
        assert sorted(scalars.get(tag, {})) == [0, 1], tag
        np.testing.assert_allclose(
            [scalars[tag][0], scalars[tag][1]], history.history[key], rtol=1e-6, atol=1e-7
        )
    # The training logs are still there, in the train run.
    assert "epoch_loss" in read_scalars(os.path.join(str(tmp_path), "train"))


@pytest.mark.parametrize("monitor_first", [True, False], ids=["monitor-first", "monitor-last"])
def test_history_and_progress_bar_get_the_values_wherever_the_monitor_sits(
    data, tmp_path, capsys, monitor_first
):
    # fit() appends its History and progress bar after the callbacks passed to it, so
    # those two see the values in either position; a callback listed before the monitor
    # (as EarlyStopping or TensorBoard could be) reads the epoch's logs without them.
    x, y, s = data
    model = small_classifier()
    monitor = InformationMonitor(validation_data=(x, y, s), fairness_metrics=False)
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path), write_graph=False)
    seen = []
    recorder = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(logs.get("val_representation_mi_ts"))
    )
    others = [recorder, board]
    callbacks = [monitor, *others] if monitor_first else [*others, monitor]
    history = model.fit(
        {"features": x, "sensitive": s}, y, epochs=2, verbose=2, callbacks=callbacks
    )
    values = history.history["val_representation_mi_ts"]
    assert len(values) == 2
    assert all(np.isfinite(values))
    printed = capsys.readouterr().out
    assert printed.count("val_representation_mi_ts:") == 2
    scalars = read_scalars(os.path.join(str(tmp_path), "validation"))
    if monitor_first:
        assert seen == values
        for key in ("representation_mi_ts", "representation_mi_ty"):
            logged = scalars.get(f"epoch_{key}", {})
            assert sorted(logged) == [0, 1], key
            np.testing.assert_allclose(
                [logged[0], logged[1]], history.history[f"val_{key}"], rtol=1e-6, atol=1e-7
            )
    else:
        assert seen == [None, None]
        assert "epoch_representation_mi_ts" not in scalars
    # The list the user passed is left as it was.
    assert callbacks[0 if monitor_first else 2] is monitor


def test_a_history_listed_before_the_monitor_is_an_error(data):
    x, y, s = data
    inputs = {"features": x, "sensitive": s}
    model = small_classifier()
    monitor = InformationMonitor(validation_data=(x, y, s), every=2, fairness_metrics=False)
    with pytest.raises(
        ValueError,
        match=r"Expected InformationMonitor to come before keras.callbacks.History in "
        r"`callbacks`.*Received: a History that recorded the epoch before the monitor ran",
    ):
        # Raised at the first epoch, before any value is lost (every=2).
        model.fit(inputs, y, epochs=2, verbose=0, callbacks=[keras.callbacks.History(), monitor])

    # Listed after the monitor, a History of one's own gets the values.
    own = keras.callbacks.History()
    model.fit(inputs, y, epochs=2, verbose=0, callbacks=[monitor, own])
    assert len(own.history["val_representation_mi_ts"]) == 1

    # A CallbackList without a History leaves model.history as the last fit's: not an error.
    callbacks = keras.callbacks.CallbackList([monitor], model=model, epochs=2, verbose=0)
    model.fit(inputs, y, epochs=2, verbose=0, callbacks=callbacks)
    assert model.history is own

    # Called outside fit (no on_epoch_begin), on_epoch_end just writes the values.
    logs: dict = {}
    monitor.on_epoch_end(1, logs)
    assert sorted(logs) == ["val_representation_mi_ts", "val_representation_mi_ty"]


def test_every_2_logs_on_epochs_2_and_4_only(data):
    x, y, s = data
    model = small_classifier()
    seen = []
    recorder = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            (epoch, sorted(key for key in logs if key.startswith("val_")))
        )
    )
    monitor = InformationMonitor(validation_data=(x, y, s), every=2)
    history = model.fit(
        {"features": x, "sensitive": s}, y, epochs=4, verbose=0, callbacks=[monitor, recorder]
    )
    assert seen == [(0, []), (1, sorted(KEYS)), (2, []), (3, sorted(KEYS))]
    assert all(len(history.history[key]) == 2 for key in KEYS)
    assert len(history.history["loss"]) == 4


def test_values_show_in_the_progress_bar(data, capsys):
    x, y, s = data
    model = small_classifier()
    monitor = InformationMonitor(validation_data=(x, y, s), fairness_metrics=False)
    model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=2, callbacks=[monitor])
    printed = capsys.readouterr().out
    assert "val_representation_mi_ts:" in printed
    assert "val_representation_mi_ty:" in printed
    assert "val_auc" not in printed  # fairness_metrics=False


def test_functional_model_with_a_sensitive_input_and_the_sampled_estimator(data):
    x, y, s = data
    features = keras.Input((4,), name="features")
    sensitive = keras.Input((), dtype="int32", name="sensitive")
    codes = StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, seed=1, name="t")(
        features, sensitive=sensitive
    )
    output = keras.layers.Dense(1, activation="sigmoid")(codes)
    model = keras.Model({"features": features, "sensitive": sensitive}, output)
    model.compile("adam", "binary_crossentropy")
    # max_exact_units=0 forces the sampled estimator: 50 codes per example.
    monitor = InformationMonitor(
        validation_data=(x, y, s), n_samples=50, max_exact_units=0, prefix="monitor_"
    )
    history = model.fit(
        {"features": x, "sensitive": s}, y, epochs=1, verbose=0, callbacks=[monitor]
    )
    kernel, bias = model.get_layer("t").get_weights()
    theta = 1.0 / (1.0 + np.exp(-(x @ kernel + bias)))
    # Mean of 12800 independent terms, each bounded by log2(N / smallest group) < 1.1 bits:
    # standard error < 1.1 / sqrt(12800) ~ 0.01; tolerance 5 of them.
    tolerance = 5 * math.log2(N / np.bincount(s).min()) / math.sqrt(50 * N)
    assert history.history["monitor_t_mi_ts"][0] == pytest.approx(
        joint_mi_bits(theta, s, 2), abs=tolerance
    )
    scores = model.predict({"features": x, "sensitive": s}, verbose=0).ravel()
    assert history.history["monitor_auc"][0] == pytest.approx(auc(y, scores))
    # Same seed and epoch: same codes, same value.
    assert monitor.compute(epoch=0)["monitor_t_mi_ts"] == history.history["monitor_t_mi_ts"][0]


def test_a_key_already_in_the_logs_is_an_error(data):
    x, y, s = data
    model = small_classifier()  # compiled with a metric named "auc"
    inputs = {"features": x, "sensitive": s}
    with pytest.raises(ValueError, match=r"already holding \['val_auc'\]; pass another `prefix`"):
        model.fit(
            inputs,
            y,
            epochs=1,
            verbose=0,
            validation_data=(inputs, y),
            callbacks=[InformationMonitor(validation_data=(x, y, s))],
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"validation_data": "xys"}, r"tuple \(x, y, s\). Received: validation_data of type str"),
        ({"every": 0}, r"`every` to be an integer >= 1. Received: every=0"),
        ({"n_samples": 1.5}, r"Received: n_samples=1.5"),
        ({"max_exact_units": -1}, r"Received: max_exact_units=-1"),
        ({"prefix": 3}, r"Received: prefix=3"),
        ({"y": np.arange(N) % 3}, r"`y` to hold binary labels"),
        ({"s": np.arange(N - 1) % 2}, r"len\(y\)=256, len\(s\)=255"),
        ({"s": np.full(N, 0.5)}, r"`s` to hold integer labels"),
    ],
)
def test_constructor_rejects_bad_arguments(data, kwargs, match):
    x, y, s = data
    y = kwargs.pop("y", y)
    s = kwargs.pop("s", s)
    kwargs.setdefault("validation_data", (x, y, s))
    with pytest.raises(ValueError, match=match):
        InformationMonitor(**kwargs)


def test_multiclass_y_without_fairness_metrics(data):
    x, _, s = data
    y = np.arange(N) % 3
    monitor = InformationMonitor(validation_data=(x, y, s), fairness_metrics=False)
    monitor.set_model(small_classifier())
    values = monitor.compute()
    assert sorted(values) == ["val_representation_mi_ts", "val_representation_mi_ty"]
