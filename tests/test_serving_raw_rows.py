"""`keras-sqnn train` exports a SavedModel that serves raw table rows without keras_sqnn.

The serving runs in a fresh process in which importing keras_sqnn or Keras fails, as in a
TensorFlow-only environment; its scores of raw rows must equal the Keras model's scores of
the same rows encoded by the saved preprocessor.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_sqnn.datasets import TabularPreprocessor, fetch_compas
from keras_sqnn.export import signature_name, with_inference
from keras_sqnn.lab.cli import main

SERVE = textwrap.dedent(
    """
    import json, sys
    sys.modules["keras_sqnn"] = None  # any import of them now raises ImportError
    sys.modules["keras"] = None
    import numpy as np
    import tensorflow as tf

    folder, rows_path, out_path = sys.argv[1:]
    rows = json.load(open(rows_path))
    served = tf.saved_model.load(folder + "/serving")
    default = served.signatures["serving_default"]
    arguments = {}
    for name, spec in default.structured_input_signature[1].items():
        arguments[name] = tf.constant(rows["raw"][name], spec.dtype)
    (raw_scores,) = default(**arguments).values()
    encoded = tf.constant(rows["encoded"], tf.float32)
    features_scores = served.serve_features(encoded)
    columns = {
        name: tf.constant(values, rows["dtypes"][name])
        for name, values in rows["by_column"].items()
    }
    threshold_scores = served.serve_threshold(columns)
    sampled = [served.serve_sample(columns).numpy().ravel().tolist() for _ in range(2)]
    assert "keras" not in sys.modules or sys.modules["keras"] is None
    json.dump(
        {
            "raw": raw_scores.numpy().ravel().tolist(),
            "features": features_scores.numpy().ravel().tolist(),
            "threshold": threshold_scores.numpy().ravel().tolist(),
            "sampled": sampled,
        },
        open(out_path, "w"),
    )
    """
)


@pytest.mark.slow
def test_trained_model_serves_raw_rows_without_keras_sqnn_or_keras(tmp_path):
    out = tmp_path / "models"
    command = ["train", "--dataset", "compas", "--epochs", "2", "--probe-trees", "10"]
    assert main([*command, "--verbose", "0", "--out", str(out)]) == 0
    folder = out / "compas"
    preprocessor = TabularPreprocessor.from_config(
        json.loads((folder / "preprocessor.json").read_text())
    )
    dataset = fetch_compas()
    rows = dataset.X.sample(300, random_state=0)
    encoded = preprocessor.transform(rows)
    raw = {
        signature_name(name): rows[name].astype(str).tolist()
        if name in preprocessor.categorical
        else rows[name].astype(float).tolist()
        for name in [*preprocessor.continuous, *preprocessor.categorical]
    }
    by_column = {
        name: rows[name].astype(str).tolist()
        if name in preprocessor.categorical
        else rows[name].astype(float).tolist()
        for name in [*preprocessor.continuous, *preprocessor.categorical]
    }
    dtypes = {
        name: "string" if name in preprocessor.categorical else "float64" for name in by_column
    }
    (tmp_path / "rows.json").write_text(
        json.dumps(
            {"raw": raw, "encoded": encoded.tolist(), "by_column": by_column, "dtypes": dtypes}
        )
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE,
            str(folder),
            str(tmp_path / "rows.json"),
            str(tmp_path / "o"),
        ],
        check=True,
        cwd=tmp_path,
    )
    served = json.loads((tmp_path / "o").read_text())
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    expected = model.predict(encoded, verbose=0).ravel()
    assert expected.std() > 1e-3  # the rows get different scores: the check has teeth
    np.testing.assert_allclose(served["raw"], expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(served["features"], expected, rtol=0, atol=1e-6)
    # The certified signatures: the thresholded code's scores are the Keras copy's, and the
    # sampled code's scores change from call to call (a fresh code per call).
    thresholded = with_inference(model, "threshold").predict(encoded, verbose=0).ravel()
    np.testing.assert_allclose(served["threshold"], thresholded, rtol=0, atol=1e-6)
    first, second = np.array(served["sampled"])
    assert np.any(first != second)
    assert not np.allclose(first, expected, atol=1e-4)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["dataset"] == "compas"
    # The report puts the certificates of both codes beside the theta-score's measurements.
    for mode in ("sample", "threshold"):
        assert 0.0 < metrics[f"{mode}_certified_dp_bound"] <= 1.0
        assert metrics[f"{mode}_certified_dp_bound"] >= metrics[f"{mode}_plugin_tv"]
        assert 0.0 <= metrics[f"{mode}_dp_gap"] <= 1.0
    assert metrics["code_units"] == 20
