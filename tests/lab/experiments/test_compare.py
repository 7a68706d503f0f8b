import time

import numpy as np
import pandas as pd
import pytest

from keras_sqnn.datasets import Dataset
from keras_sqnn.lab.experiments import COLUMNS, compare, summarize
from tests.lab.baselines.synthetic import biased_data

FEATURES = [f"f{i}" for i in range(6)]


def synthetic_dataset(n=300, seed=0):
    """A tabular Dataset with raw columns: six continuous ones and a categorical one."""
    x, y, s = biased_data(n=n, seed=seed)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["kind"] = np.where(x[:, 2] > 0, "a", "b")
    return Dataset(
        name="synthetic",
        X=frame.to_numpy(dtype=object),
        y=y,
        s=s,
        feature_names=[*FEATURES, "kind"],
        sensitive_name="s",
        group_names=["g0", "g1"],
        target_names=["no", "yes"],
        categorical=["kind"],
        continuous=FEATURES,
    )


def _without_timing(table):
    return table.drop(columns=["train_seconds"])


def test_one_row_per_method_parameter_and_fold():
    table = compare(
        ["vanilla", "fairlearn_eg"],
        synthetic_dataset(),
        gammas={"fairlearn_eg": [0.0, 0.5]},
        n_outer=2,
        epochs=2,
        probe_trees=10,
    )
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == (1 + 2) * 2
    keys = table[["method", "param", "fold"]].apply(tuple, axis=1)
    assert sorted(keys) == sorted(
        (m, p, f)
        for f in (0, 1)
        for m, p in [("vanilla", 0.0), ("fairlearn_eg", 0.0), ("fairlearn_eg", 0.5)]
    )
    assert set(table["param_name"]) == {"gamma", "epsilon"}
    assert (table["n_train"] + table["n_test"] == 300).all()
    network = table[table["method"] == "vanilla"]
    reduction = table[table["method"] == "fairlearn_eg"]
    # The reduction has no representation: its probe columns are "not applicable".
    assert reduction[["adrg", "probe_auc_s", "probe_auc_y", "tradeoff_adrg"]].isna().all().all()
    assert network[["adrg", "probe_auc_s", "probe_auc_y", "tradeoff_adrg"]].notna().all().all()
    metrics = table[["auc", "accuracy", "gpa", "audc"]]
    assert ((metrics >= 0) & (metrics <= 1)).all().all()
    np.testing.assert_allclose(table["tradeoff_gpa"], 1 - table["auc"] + table["gpa"])
    np.testing.assert_allclose(table["tradeoff_audc"], 1 - table["auc"] + table["audc"])
    assert (table["train_seconds"] > 0).all()

    summary = summarize(table)
    assert len(summary) == 3
    row = ("synthetic", "fairlearn_eg", "epsilon", 0.5)
    np.testing.assert_allclose(
        summary.loc[row, ("auc", "mean")], reduction[reduction["param"] == 0.5]["auc"].mean()
    )
    text = summarize(table, text=True)
    assert " ± " in text.loc[row, "gpa"]


def test_same_seed_same_table_and_folds_given_as_index_pairs():
    rows = np.random.default_rng(0).permutation(300)
    folds = [(rows[:200], rows[200:])]
    run = lambda: compare(  # noqa: E731
        ["binary_mi", "vfae"], synthetic_dataset(), folds, epochs=1, probe_trees=10, seed=3
    )
    first, second = run(), run()
    assert len(first) == 2 and (first["n_test"] == 100).all()
    pd.testing.assert_frame_equal(_without_timing(first), _without_timing(second))


def test_bad_arguments_fail_before_training():
    dataset = synthetic_dataset(n=60)
    with pytest.raises(ValueError, match="method name"):
        compare(["vanilla", "svm"], dataset)
    with pytest.raises(ValueError, match="Received: keys \\['vfae'\\]"):
        compare(["vanilla"], dataset, gammas={"vfae": [1.0]})
    with pytest.raises(ValueError, match="'adv_cls' to be in \\[0, 1\\]"):
        compare(["adv_cls"], dataset, gammas={"adv_cls": [0.5, 3.0]})
    with pytest.raises(ValueError, match="Received: dataset='mnist'"):
        compare(["vanilla"], "mnist")
    with pytest.raises(ValueError, match="Received: folds\\[0\\]"):
        compare(["vanilla"], dataset, folds=[np.arange(10)])


@pytest.mark.slow
def test_every_method_runs_and_is_deterministic():
    rows = np.random.default_rng(1).permutation(300)
    kwargs = dict(folds=[(rows[:200], rows[200:])], epochs=2, probe_trees=10, seed=1)
    names = ["binary_bernoulli", "binary_mi", "vanilla", "adv_cls", "vfae"]
    names += ["fairlearn_eg", "fairlearn_eg_eo", "fairlearn_adv"]
    first = compare(names, synthetic_dataset(), **kwargs)
    second = compare(names, synthetic_dataset(), **kwargs)
    assert list(first["method"]) == names
    pd.testing.assert_frame_equal(_without_timing(first), _without_timing(second))


@pytest.mark.slow
def test_compas_end_to_end_small_budget(capsys):
    names = ["binary_bernoulli", "binary_mi", "adv_cls", "vfae", "vanilla", "fairlearn_eg"]
    start = time.perf_counter()
    table = compare(names, "compas", budget="small")
    seconds = time.perf_counter() - start
    assert len(table) == 6 * 3
    assert (
        not table.drop(columns=["adrg", "probe_auc_s", "probe_auc_y", "tradeoff_adrg"])
        .isna()
        .any()
        .any()
    )
    summary = summarize(table)
    # Every method learns something on COMPAS (its AUCs are about 0.63-0.74).
    assert (summary[("auc", "mean")] > 0.6).all()
    with capsys.disabled():
        print(f"\ncompare(6 methods, 'compas', budget='small'): {seconds:.0f} s")
        with pd.option_context("display.width", 250, "display.max_columns", 20):
            print(summarize(table, text=True))
