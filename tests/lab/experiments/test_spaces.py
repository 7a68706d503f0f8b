import keras_tuner as kt
import numpy as np
import pytest

from keras_sqnn import tuning
from keras_sqnn.lab.baselines.adversarial import AdversarialClassifier
from keras_sqnn.lab.experiments import METHOD_NAMES, make_method, spaces
from keras_sqnn.lab.experiments.builders import build_method
from keras_sqnn.lab.experiments.spaces import SPACES, TUNED_METHODS, declare, method_from
from keras_sqnn.layers import StochasticBinaryDense
from tests.lab.baselines.synthetic import biased_data

SQNN_SPACE = {
    "n_hidden": (1, 5, "linear"),
    "stochastic_position": (0, 4, "linear"),
    "gamma": (1e-3, 1.0, "log"),
    "hidden_size": (10, 50, "linear"),
    "hybrid": None,
    "batch_size": (64, 256, "linear"),
}
TRAINING = {"learning_rate": (1e-4, 1e-2, "log"), "batch_size": (64, 256, "linear")}
SIZES = {"n_hidden": (1, 5, "linear"), "hidden_size": (10, 50, "linear")}
# Each method's space as the issue and the module docstring state it: name -> (min, max,
# sampling), None for a boolean.
EXPECTED = {
    "binary_bernoulli": SQNN_SPACE,
    "binary_mi": SQNN_SPACE,
    "binary_bernoulli_conditional": SQNN_SPACE,
    "vanilla": {**SIZES, **TRAINING},
    "adv_cls": {
        "gamma": (1e-3, 0.99, "log"),
        "adversary_size": (10, 50, "linear"),
        **SIZES,
        **TRAINING,
    },
    "vfae": {
        "gamma": (1.0, 1000.0, "log"),
        "classification_weight": (1.0, 1000.0, "log"),
        "latent_dim": (10, 50, "linear"),
        "hidden_size": (10, 50, "linear"),
        **TRAINING,
    },
    "fairlearn_eg": {"epsilon": (1e-3, 0.2, "log")},
    "fairlearn_eg_eo": {"epsilon": (1e-3, 0.2, "log")},
    "fairlearn_adv": {
        "alpha": (1e-2, 1e2, "log"),
        "adversary_size": (10, 50, "linear"),
        **SIZES,
        **TRAINING,
    },
}


def _space(method):
    hp = kt.HyperParameters()
    declare(method, hp)
    return hp, {h.name: h.get_config() for h in hp.space}


def test_every_method_but_the_constant_has_a_space_and_the_issue_tunes_eight():
    assert set(SPACES) == set(METHOD_NAMES) == set(EXPECTED)
    assert "binary_bernoulli_conditional" not in TUNED_METHODS and len(TUNED_METHODS) == 8
    with pytest.raises(ValueError, match="Received: method='svm'"):
        declare("svm", kt.HyperParameters())


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_space_bounds_and_defaults_inside_them(method):
    hp, space = _space(method)
    assert set(space) == set(EXPECTED[method])
    for name, expected in EXPECTED[method].items():
        config = space[name]
        if expected is None:
            assert type(hp.space[[h.name for h in hp.space].index(name)]).__name__ == "Boolean"
            continue
        low, high, sampling = expected
        assert (config["min_value"], config["max_value"]) == pytest.approx((low, high))
        assert config["sampling"] == sampling
        assert low <= config["default"] <= high
    # The settings of the default trial build the method, with its name.
    assert method_from(method, hp, epochs=1).name == method


def test_the_sqnn_space_is_the_librarys():
    # One definition, in the library; the experiments' module re-exports it.
    assert spaces.sqnn_space is tuning.sqnn_space
    assert spaces.SPACES["binary_mi"] is tuning.sqnn_space


def test_sqnn_hypermodel_reads_the_same_table_2_space():
    hypermodel_hp = kt.HyperParameters()
    tuning.SQNNHyperModel(10).declare_hyperparameters(hypermodel_hp)
    method_hp, _ = _space("binary_bernoulli")
    configs = {h.name: h.get_config() for h in hypermodel_hp.space}
    assert configs.pop("estimator")["values"] == ["bernoulli", "joint"]
    assert configs == {h.name: h.get_config() for h in method_hp.space}
    # The learning rate is the budget's: the SQNN spaces do not search it.
    method = method_from("binary_mi", method_hp, epochs=1, learning_rate=3e-4)
    model = method.build(6)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-4)
    assert type(model.get_layer("representation").mi_estimator).__name__ == "JointMutualInformation"


@pytest.mark.parametrize("n_hidden, position, expected", [(2, 4, 1), (5, 2, 2), (1, 0, 0)])
def test_stochastic_position_past_the_last_layer_means_the_last(n_hidden, position, expected):
    hp, _ = _space("binary_bernoulli")
    hp.values.update(n_hidden=n_hidden, stochastic_position=position)
    values = declare("binary_bernoulli", hp)
    assert values["stochastic_position"] == expected
    model = method_from("binary_bernoulli", values, epochs=1).build(6)
    regularized = [
        index
        for index, layer in enumerate(model.stack)
        if isinstance(layer, StochasticBinaryDense) and layer.mi_estimator is not None
    ]
    assert regularized == [expected] and len(model.stack) == n_hidden + 1


def test_conditional_sqnn_regularizes_given_the_labels():
    hp, _ = _space("binary_bernoulli_conditional")
    model = method_from("binary_bernoulli_conditional", hp, epochs=1).build(6)
    assert model.get_layer("representation").condition_on == "labels"
    compare_model = make_method("binary_bernoulli_conditional", dataset="compas").build(6)
    assert compare_model.get_layer("representation").condition_on == "labels"


def test_sizes_reach_the_built_networks():
    hp, _ = _space("adv_cls")
    hp.values.update(n_hidden=2, hidden_size=13, adversary_size=17, gamma=0.2)
    model = method_from("adv_cls", hp, epochs=1, num_groups=3).build(6)
    assert isinstance(model, AdversarialClassifier)
    assert model.encode(np.zeros((4, 6), "float32")).shape == (4, 13)
    hp, _ = _space("vfae")
    hp.values.update(latent_dim=11)
    vfae = method_from("vfae", hp, epochs=1).build(6)
    mean, _ = vfae.encode(np.zeros((4, 6), "float32"), np.zeros(4, "int32"))
    assert mean.shape == (4, 11)


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_a_trial_builds_and_trains_one_batch(method):
    x, y, s = biased_data(n=64)
    hp, _ = _space(method)
    if "batch_size" in hp.values:
        hp.values["batch_size"] = 64  # The smallest batch of the spaces: one batch.
    trained = method_from(method, hp, epochs=1).fit(x, y, s)
    scores = trained.predict_proba(x, s)
    assert scores.shape == (64,) and np.all((scores >= 0) & (scores <= 1))
    representation = trained.representation(x, s)
    if method.startswith("fairlearn_eg"):
        assert representation is None
    else:
        assert representation.shape[0] == 64
    history = getattr(trained, "history", None)
    if history is not None:  # Keras methods: one epoch of one step.
        assert len(history.history["loss"]) == 1


def test_build_method_names_the_missing_settings():
    with pytest.raises(ValueError, match="'n_hidden', 'hidden_size', 'batch_size'"):
        build_method("vanilla", {"n_hidden": 2}, epochs=1)
    with pytest.raises(ValueError, match="Received: values=.*'estimator'"):
        build_method(
            "binary_mi", {**declare("binary_mi", kt.HyperParameters()), "estimator": "x"}, epochs=1
        )
    with pytest.raises(ValueError, match="Received: 'svm'"):
        build_method("svm", {}, epochs=1)


def test_the_tuned_csv_schema_names_the_methods_with_a_space():
    import ast
    from pathlib import Path

    from keras_sqnn.lab.experiments import builders, tuned, tuned_report, tuned_schema

    # One definition of each constant, imported by the writer, the report and the spaces.
    assert tuple(SPACES) == tuned_schema.SEARCHED_METHODS
    assert tuple(builders.SQNN_METHODS) == tuned_schema.SQNN_METHODS
    assert TUNED_METHODS is tuned_schema.TUNED_METHODS is tuned_report.TUNED_METHODS
    assert tuned.CSV_COLUMNS is tuned_schema.CSV_COLUMNS
    assert tuned.read_results is tuned_schema.read_results
    # The schema is read without Keras (the report and make_results need no model code).
    tree = ast.parse(Path(tuned_schema.__file__).read_text())
    modules = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert "pandas" in modules
    assert not modules & {"keras", "keras_tuner", "tensorflow", "keras_sqnn"}
