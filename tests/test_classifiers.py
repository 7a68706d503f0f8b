"""build_sqnn_classifier passes condition_on, inference and tuple num_groups to its layer."""

from __future__ import annotations

import numpy as np
import pytest

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier

CONFIG = SQNNConfig(n_hidden=2, hidden_size=6, gamma=0.2, batch_size=64)


def data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 3, n)]).astype("int32")
    x = rng.normal(size=(n, 4)).astype("float32")
    x[:, 0] += s[:, 0]
    y = (x[:, 1] + s[:, 0] > 0.5).astype("float32")
    return x, y, s


def test_default_config_regularizes_independence():
    model = build_sqnn_classifier(4, CONFIG)
    layer = model.get_layer("representation")
    assert CONFIG.condition_on is None
    assert layer.condition_on is None and layer.num_groups == 2


def test_condition_on_labels_and_intersections_reach_the_layer_and_train():
    x, y, s = data()
    config = CONFIG.replace(condition_on="labels")
    model = build_sqnn_classifier(4, config, num_groups=(2, 3))
    layer = model.get_layer("representation")
    assert layer.condition_on == "labels" and layer.num_classes == 2
    assert layer.num_groups == (2, 3)
    # The model passes its binary targets as Y: fit needs nothing more than S.
    history = model.fit({"features": x, "sensitive": s}, y, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["representation_mi"][0])
    logs = model.evaluate({"features": x, "sensitive": s}, y, verbose=0, return_dict=True)
    assert {"representation_mi_0", "representation_mi_1"} <= set(logs)


def test_a_bad_condition_is_refused_by_the_layer():
    with pytest.raises(ValueError, match="condition_on"):
        build_sqnn_classifier(4, CONFIG.replace(condition_on="targets"))


def test_inference_sample_scores_from_a_sampled_code():
    x, _, _ = data(n=64)
    default = build_sqnn_classifier(4, CONFIG, seed=0)
    assert default.get_layer("representation").inference == "expectation"
    np.testing.assert_array_equal(default.predict(x, verbose=0), default.predict(x, verbose=0))
    sampled = build_sqnn_classifier(4, CONFIG.replace(inference="sample"), seed=0)
    assert sampled.get_layer("representation").inference == "sample"
    # A fresh code per call: two predictions of 64 rows through 6 random bits differ.
    first, second = sampled.predict(x, verbose=0), sampled.predict(x, verbose=0)
    assert not np.array_equal(first, second)


def test_a_bad_inference_is_refused_by_the_layer():
    with pytest.raises(ValueError, match="inference='mean'"):
        build_sqnn_classifier(4, CONFIG.replace(inference="mean"))
