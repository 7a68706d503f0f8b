import numpy as np
import pytest

from keras_sqnn.lab.experiments import (
    METHOD_NAMES,
    PAPER_HYPERPARAMETERS,
    Method,
    default_param,
    make_method,
)
from tests.lab.baselines.synthetic import biased_data


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_method_has_the_interface_and_its_default(name):
    method = make_method(name, dataset="compas")
    assert isinstance(method, Method)
    assert method.name == name
    assert method.param == default_param(name, "compas")
    assert method.param_name == {"fairlearn_eg": "epsilon", "fairlearn_eg_eo": "epsilon"}.get(
        name, "alpha" if name == "fairlearn_adv" else "gamma"
    )


def test_sqnn_defaults_and_budgets_follow_table_2():
    assert default_param("binary_mi", "adult") == PAPER_HYPERPARAMETERS[("adult", "joint")].gamma
    small = make_method("binary_bernoulli", dataset="banks")
    paper = make_method("binary_bernoulli", dataset="banks", budget="paper")
    assert (small.epochs, small.batch_size) == (20, 128)
    assert (paper.epochs, paper.batch_size) == (100, 240)
    assert make_method("vfae", budget="paper", epochs=3).epochs == 3


def test_sqnn_method_fits_and_probes_binary_codes():
    x, y, s = biased_data(n=200)
    method = make_method("binary_bernoulli", 0.5, epochs=1).fit(x, y, s)
    scores = method.predict_proba(x, s)
    assert scores.shape == (200,) and np.all((scores >= 0) & (scores <= 1))
    codes = method.representation(x, s)
    assert codes.shape == (200, 50) and set(np.unique(codes)) <= {0.0, 1.0}


def test_make_method_rejects_bad_requests():
    with pytest.raises(ValueError, match="Received: 'svm'"):
        make_method("svm")
    with pytest.raises(ValueError, match="Received: budget='huge'"):
        make_method("vfae", budget="huge")
    with pytest.raises(ValueError, match="no fairness parameter"):
        make_method("vanilla", 0.5)
    with pytest.raises(ValueError, match=r"'adv_cls' to be in \[0, 1\]. Received: param=2.0"):
        make_method("adv_cls", 2.0)
    with pytest.raises(ValueError, match="'vfae' to be >= 0 and finite"):
        make_method("vfae", float("nan"))
