"""The accurate-and-certified sweep: selection on validation, the sharpness term, a smoke run."""

import keras
import numpy as np
import pandas as pd
import pytest

from keras_sqnn.lab.experiments import certified, certified_report
from keras_sqnn.lab.experiments.certified import SharpStochasticBinaryDense
from keras_sqnn.lab.experiments.certified_report import select_certified


def _table():
    rows = [
        # method, units, gamma, val_accuracy, val_plugin_tv, test_radius, test_bound
        ("constant", np.nan, np.nan, 0.76, np.nan, np.nan, 0.0),
        ("sqnn", 4, 0.1, 0.85, 0.10, 0.02, 0.12),
        ("sqnn", 4, 0.2, 0.83, 0.025, 0.02, 0.046),
        ("sqnn", 8, 0.2, 0.84, 0.035, 0.02, 0.030),  # predicted 0.055: not eligible at 0.05
        ("sqnn", 1, 0.4, 0.80, 0.01, 0.02, 0.031),
    ]
    columns = [
        "method",
        "units",
        "gamma",
        "val_accuracy",
        "val_plugin_tv",
        "test_radius",
        "test_bound",
    ]
    return pd.DataFrame(rows, columns=columns)


def test_selection_reads_validation_and_the_test_radius_only():
    chosen = select_certified(_table(), 0.05)
    # The most accurate on validation whose validation plug-in TV + test radius <= 0.05;
    # the 8-unit row's smaller *test* bound is not looked at.
    assert (chosen["units"], chosen["gamma"]) == (4, 0.2)
    assert select_certified(_table(), 0.02) is None


def test_sharpness_adds_the_mean_binary_entropy_in_bits():
    layer = SharpStochasticBinaryDense(3, sharpness=0.5, kernel_initializer="zeros")
    x = np.ones((4, 2), "float32")
    layer(x, training=True)
    # theta = 0.5 everywhere: one bit per unit, so the term is 0.5 * 1.
    assert float(layer.losses[0]) == pytest.approx(0.5, rel=1e-5)
    layer(x, training=False)
    config = layer.get_config()
    assert config["sharpness"] == 0.5
    assert SharpStochasticBinaryDense.from_config(config).sharpness == 0.5
    with pytest.raises(ValueError, match="sharpness=-1"):
        SharpStochasticBinaryDense(3, sharpness=-1)


def test_a_model_with_the_sharp_layer_saves_and_loads(tmp_path):
    model = certified.build_model(5, units=2, gamma=0.1, seed=0, sharpness=0.1)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.get_layer("code").sharpness == 0.1


@pytest.mark.slow
def test_one_setting_on_compas_writes_rows_and_a_report(tmp_path):
    path = certified.run_certified(
        "compas", units=[2], gammas=[0.1], sharpness=[0.0], epochs=1, out=tmp_path
    )
    table = pd.read_csv(path)
    assert set(table["method"]) == {"constant", "fairlearn_eg", "sqnn"}
    sqnn = table[table["method"] == "sqnn"]
    assert sorted(sqnn["inference"]) == ["sample", "threshold"]
    assert (sqnn["test_bound"] >= sqnn["test_plugin_tv"]).all()
    # A rerun skips what is done.
    certified.run_certified(
        "compas", units=[2], gammas=[0.1], sharpness=[0.0], epochs=1, out=tmp_path
    )
    assert len(pd.read_csv(path)) == len(table)
    text = certified_report.report(path, "compas")
    assert "| 0.10 |" in text and "| 0.20 |" in text
    certified_report.plot(path, tmp_path / "figure.png", "compas")
    assert (tmp_path / "figure.png").stat().st_size > 1000


def test_cell_decoder_is_the_most_accurate_table_of_the_code():
    theta = np.array([[0.9, 0.2], [0.8, 0.3], [0.1, 0.7], [0.6, 0.6]])
    y = np.array([1, 1, 0, 0])
    table = certified.cell_decoder(theta, y, "sample")
    for cell in range(4):
        bits = [(cell >> j) & 1 for j in range(2)]
        probability = np.prod(np.where(bits, theta, 1 - theta), axis=1)  # P(t = cell | x)
        # Predict 1 where the rows with y = 1 put more mass on the cell than those with y = 0.
        assert table[cell] == (probability[y == 1].sum() > probability[y == 0].sum())
    thresholded = certified.cell_decoder(theta, y, "threshold")
    # Threshold cells: rows 0, 1 -> (1, 0) = cell 1 (both y = 1); row 2 -> (0, 1) = cell 2;
    # row 3 -> (1, 1) = cell 3; cell 0 is never seen (decides 0).
    assert thresholded.tolist() == [False, True, False, False]
