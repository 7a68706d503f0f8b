import dataclasses
import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from keras_sqnn import tuning
from keras_sqnn.datasets import fetch_compas, nested_folds
from keras_sqnn.lab.experiments import (
    CSV_COLUMNS,
    TUNED_METHODS,
    build_method,
    method_search,
    read_results,
    spaces,
    tuned,
)
from keras_sqnn.lab.experiments.method_search import (
    TUNING_BUDGETS,
    MethodHyperModel,
    TuningBudget,
    subsample,
    trial_records,
)
from keras_sqnn.lab.experiments.selection import TrialRecord
from keras_sqnn.lab.experiments.tuned import oracle_port_offset, tune_method
from keras_sqnn.lab.experiments.tuned_schema import ROW_KEY, SEARCHED_METHODS
from tests.lab.experiments.test_compare import synthetic_dataset
from tests.tuning.chief_and_workers import run_chief_and_workers
from tests.tuning.search_script import synthetic_folds

TINY = dataclasses.replace(TUNING_BUDGETS["cpu"], name="tiny", trials=2, epochs=1, probe_trees=10)
ONE_TRIAL = dataclasses.replace(TINY, trials=1)


def _tuner(directory, method, max_trials, **kwargs):
    return tuning.FairnessTuner(
        MethodHyperModel(method, epochs=1),
        directory=directory,
        max_trials=max_trials,
        seed=1,
        fingerprint={"data": "synthetic"},
        **kwargs,
    )


def test_resuming_a_baseline_search_keeps_its_finished_trials(tmp_path):
    folds = synthetic_folds()
    first = _tuner(tmp_path, "fairlearn_eg", 1)
    first.search(folds)
    before = {r.trial_id: (r.values, r.metrics) for r in trial_records(first, "fairlearn_eg")}
    assert len(before) == 1
    with pytest.raises(FileExistsError, match="resume=True"):
        _tuner(tmp_path, "fairlearn_eg", 2)
    with pytest.raises(ValueError, match="refusing to resume"):  # another method's space
        _tuner(tmp_path, "fairlearn_eg_eo", 2, resume=True)
    resumed = _tuner(tmp_path, "fairlearn_eg", 2, resume=True)
    resumed.search(folds)
    after = {r.trial_id: (r.values, r.metrics) for r in trial_records(resumed, "fairlearn_eg")}
    assert len(after) == 2
    assert all(after[trial_id] == kept for trial_id, kept in before.items())


def test_trials_report_the_objective_its_parts_and_their_seconds(tmp_path):
    folds = synthetic_folds()
    tuner = _tuner(tmp_path, "fairlearn_eg_eo", 1)
    tuner.search(folds)
    (record,) = trial_records(tuner, "fairlearn_eg_eo")
    # The objective is the mean over the folds of the refitted method's score.
    method = build_method("fairlearn_eg_eo", record.values, epochs=1)
    expected = []
    for fold in folds:
        scores = method.fit(fold.x_train, fold.y_train, fold.s_train).predict_proba(fold.x_test)
        expected.append(tuning.fairness_score(fold.y_test, scores, sensitive_features=fold.s_test))
    for key in ("fairness_score", "auc", "gpa", "audc"):
        assert record.metrics[key] == pytest.approx(np.mean([e[key] for e in expected]))
    assert record.metrics["seconds"] > 0
    # fairlearn's reductions are not Keras models: their trials store none, and say so.
    with pytest.raises(ValueError, match="not a Keras model"):
        tuner.get_best_models(1)


def test_subsample_keeps_the_strata_proportions():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 1000), (rng.uniform(size=1000) < 0.2).astype(int)
    rows = np.arange(100, 1000)
    kept = subsample(rows, y, s, 300, seed=0)
    assert len(kept) == 300 and len(np.unique(kept)) == 300 and set(kept) <= set(rows)
    for stratum in range(4):
        full = np.mean(2 * y[rows] + s[rows] == stratum)
        assert np.mean(2 * y[kept] + s[kept] == stratum) == pytest.approx(full, abs=0.005)
    np.testing.assert_array_equal(subsample(rows, y, s, 900, seed=0), rows)
    np.testing.assert_array_equal(subsample(rows, y, s, None, seed=0), rows)


def test_tune_method_writes_one_row_per_fold_and_skips_it_on_rerun(tmp_path, capsys):
    dataset = synthetic_dataset()
    run = dict(out=tmp_path, searches=tmp_path / "searches", budget=ONE_TRIAL, outer_folds=[1])
    table = tune_method(dataset, "fairlearn_eg", **run)
    csv = read_results(tmp_path / "tuned_synthetic.csv")
    assert list(csv.columns) == list(CSV_COLUMNS)
    assert csv["method"].tolist() == ["constant", "fairlearn_eg"]
    constant, row = csv.iloc[0], csv.iloc[1]
    assert (constant["auc"], constant["gpa"], constant["audc"]) == (0.5, 0.0, 0.0)
    assert constant["params"] == "{}" and constant["trials"] == 0 and np.isnan(constant["adrg"])
    assert tuple(constant[list(ROW_KEY)]) == ("synthetic", "constant", 1, "none", "none", 0)
    assert row["fold"] == 1 and row["budget"] == "tiny" and row["trials"] == 1
    assert row["seed"] == 0
    assert row["selection"] in ("auc_floor", "auc_floor:none_eligible")
    assert np.isnan(row["adrg"]) and row["search_seconds"] > 0
    assert table.equals(csv.iloc[[1]].reset_index(drop=True))
    # The auc_floor reference came from a vanilla search of the same outer fold.
    vanilla = tmp_path / "searches" / "synthetic" / "tiny" / "vanilla" / "outer1"
    assert len(list(vanilla.glob("trial_*/trial.json"))) == 1
    # The chosen settings are stored as JSON and rebuild the method.
    assert build_method("fairlearn_eg", json.loads(row["params"]), epochs=1).param > 0
    printed = capsys.readouterr().out
    assert re.search(r"\[synthetic fairlearn_eg\] outer fold 1: trial 0 of 1 by auc_floor", printed)
    tune_method(dataset, "fairlearn_eg", **run)
    assert read_results(tmp_path / "tuned_synthetic.csv").equals(csv)
    assert "outer fold 1: already in" in capsys.readouterr().out
    # Another rule reuses the finished searches and adds its own row.
    tune_method(dataset, "fairlearn_eg", **run, selection="objective")
    rows = read_results(tmp_path / "tuned_synthetic.csv")
    assert len(rows) == 3 and rows["selection"].iloc[2] == "objective"
    assert rows["search_seconds"].iloc[2] == row["search_seconds"]
    # resume=False starts the method's searches over and replaces its row.
    tune_method(dataset, "fairlearn_eg", **run, selection="objective", resume=False)
    again = read_results(tmp_path / "tuned_synthetic.csv")
    assert len(again) == 3 and again["selection"].iloc[2] == "objective"
    assert again["search_seconds"].iloc[2] != rows["search_seconds"].iloc[2]


def test_a_csv_of_another_layout_is_refused(tmp_path):
    pd.DataFrame({"method": ["x"]}).to_csv(tmp_path / "tuned_synthetic.csv", index=False)
    with pytest.raises(ValueError, match="move it away"):
        tune_method(synthetic_dataset(), "vanilla", out=tmp_path, searches=tmp_path, budget=TINY)
    with pytest.raises(ValueError, match="Received: selection='best'"):
        tune_method("compas", "vanilla", out=tmp_path, searches=tmp_path, selection="best")
    with pytest.raises(ValueError, match=r"Received: outer_folds=\[3\]"):
        tune_method("compas", "vanilla", out=tmp_path, searches=tmp_path, outer_folds=[3])


@pytest.mark.slow
def test_every_method_tunes_end_to_end_on_500_compas_rows(tmp_path):
    compas = fetch_compas()
    rows = np.sort(np.random.default_rng(0).choice(len(compas.y), 500, replace=False))
    small = dataclasses.replace(
        compas, name="compas500", X=compas.X.iloc[rows], y=compas.y[rows], s=compas.s[rows]
    )
    for method in TUNED_METHODS:
        tune_method(
            small, method, out=tmp_path, searches=tmp_path / "s", budget=TINY, outer_folds=[0]
        )
    table = read_results(tmp_path / "tuned_compas500.csv")
    assert list(table.columns) == list(CSV_COLUMNS)
    assert sorted(table["method"]) == sorted([*TUNED_METHODS, "constant"])
    tuned = table[table["method"] != "constant"]
    assert (tuned["trials"] == 2).all() and (tuned["fold"] == 0).all()
    assert tuned[["auc", "gpa", "audc", "tradeoff_gpa", "tradeoff_audc"]].notna().all().all()
    with_representation = ~tuned["method"].str.startswith("fairlearn_eg")
    assert tuned.loc[with_representation, "adrg"].notna().all()


def test_another_seed_is_another_row_and_has_its_own_constant_rows(tmp_path):
    run = dict(out=tmp_path, searches=tmp_path / "s", budget=ONE_TRIAL, outer_folds=[0])
    tune_method(synthetic_dataset(), "fairlearn_eg", **run, selection="objective")
    table = tune_method(synthetic_dataset(), "fairlearn_eg", **run, selection="objective", seed=1)
    assert table["seed"].tolist() == [1]
    csv = read_results(tmp_path / "tuned_synthetic.csv")
    assert sorted(zip(csv["method"], csv["seed"], strict=True)) == [
        ("constant", 0),
        ("constant", 1),
        ("fairlearn_eg", 0),
        ("fairlearn_eg", 1),
    ]


def test_a_budget_of_zero_trials_or_trees_is_refused_up_front(tmp_path):
    for field, value in (("trials", 0), ("trials", -2), ("epochs", 0), ("probe_trees", 0)):
        with pytest.raises(ValueError, match=f"Received: {field}={value}"):
            dataclasses.replace(TINY, **{field: value})
    with pytest.raises(ValueError, match="Received: n_inner_train=0"):
        TuningBudget("x", trials=1, epochs=1, learning_rate=1e-3, n_inner_train=0)
    assert dataclasses.replace(TINY, n_inner_train=None).n_inner_train is None


def test_auc_floor_takes_the_vanilla_search_of_the_same_outer_fold_as_reference(
    tmp_path, monkeypatch
):
    chosen = []
    real_select = tuned.select

    def spy(records, rule, **kwargs):
        chosen.append((records, kwargs["reference_auc"]))
        return real_select(records, rule, **kwargs)

    monkeypatch.setattr(tuned, "select", spy)
    run = dict(out=tmp_path, searches=tmp_path / "s", budget=ONE_TRIAL, outer_folds=[0, 2])
    tune_method(synthetic_dataset(), "fairlearn_eg", **run, verbose=0)
    assert len(chosen) == 2
    for fold, (records, reference) in zip((0, 2), chosen, strict=True):
        # Read from the stored vanilla trials, not through trial_records.
        stored = tmp_path / "s" / "synthetic" / "tiny" / "vanilla" / f"outer{fold}"
        aucs = [
            json.loads(path.read_text())["metrics"]["metrics"]["auc"]["observations"][0]["value"]
            for path in stored.glob("trial_*/trial.json")
        ]
        assert len(aucs) == 1 and reference == pytest.approx(max(a[0] for a in aucs))
        assert reference != pytest.approx(max(r.auc for r in records))  # not the method's own
    assert chosen[0][1] != pytest.approx(chosen[1][1])


def test_trials_fit_on_the_inner_subsample_and_the_refit_on_the_outer_training_fold(
    tmp_path, monkeypatch
):
    dataset = synthetic_dataset()
    fitted, inner = [], []
    real_method_from, real_arrays = spaces.method_from, method_search.train_test_arrays

    def method_from(*args, **kwargs):
        method = real_method_from(*args, **kwargs)
        fit = method.fit
        method.fit = lambda x, y, s, *a, **k: fitted.append(len(y)) or fit(x, y, s, *a, **k)
        return method

    def train_test_arrays(data, train, test):
        inner.append((np.asarray(train), np.asarray(test)))
        return real_arrays(data, train, test)

    monkeypatch.setattr(spaces, "method_from", method_from)
    monkeypatch.setattr(method_search, "train_test_arrays", train_test_arrays)
    budget = dataclasses.replace(ONE_TRIAL, n_inner_train=50)
    run = dict(out=tmp_path, searches=tmp_path / "s", budget=budget, outer_folds=[1])
    tune_method(dataset, "fairlearn_eg", **run, selection="objective", verbose=0)
    outer = nested_folds(dataset.y, dataset.s, n_outer=3, n_inner=3, seed=0)[1]
    assert len(inner) == 3
    for (train, validation), (inner_train, inner_validation) in zip(
        inner, outer.inner, strict=True
    ):
        assert len(inner_train) > 50 and len(train) == 50
        assert set(train) <= set(inner_train)  # only inner training rows, subsampled
        np.testing.assert_array_equal(np.sort(validation), np.sort(inner_validation))
    assert fitted == [50, 50, 50, len(outer.train)]


def test_oracle_ports_depend_only_on_the_search(tmp_path, monkeypatch):
    offsets = [
        oracle_port_offset(method, fold, reference=reference)
        for reference in (False, True)
        for method in SEARCHED_METHODS
        for fold in range(3)
    ]
    assert sorted(offsets) == list(range(2 * 3 * len(SEARCHED_METHODS)))
    assert tuple(spaces.SPACES) == SEARCHED_METHODS
    # The chief serves a search on base + its offset, and leaves the variable as it was.
    from keras_tuner.src.distribute import oracle_chief

    served = []
    monkeypatch.setattr(
        oracle_chief, "start_server", lambda oracle: served.append(os.environ[PORT])
    )
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv(PORT, "5000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    for name, offset in (("a", 7), ("b", 0), ("c", 7)):
        _tuner(tmp_path / name, "fairlearn_eg", 1, port_offset=offset).search(synthetic_folds())
        assert os.environ[PORT] == "5000"
    assert served == ["5007", "5000", "5007"]


PORT = "KERASTUNER_ORACLE_PORT"


def _as_worker(monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv(PORT, "5000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")


def test_a_worker_never_reads_the_csv_and_never_starts_a_search_over(tmp_path, monkeypatch):
    first = _tuner(tmp_path, "fairlearn_eg", 1)
    first.search(synthetic_folds())
    _as_worker(monkeypatch)
    _tuner(tmp_path, "fairlearn_eg", 1, overwrite=True)  # would delete the chief's search
    assert len(list(tmp_path.glob("search/trial_*/trial.json"))) == 1
    searched = []

    def search_fold(dataset, method, index, *args, resume, port_offset, **kwargs):
        searched.append((method, index, resume, port_offset))

    monkeypatch.setattr(tuned, "search_fold", search_fold)
    monkeypatch.setattr(tuned, "read_results", lambda path: pytest.fail("read the CSV"))
    run = dict(out=tmp_path, searches=tmp_path / "s", budget=TINY, outer_folds=[0, 2])
    table = tune_method(synthetic_dataset(), "fairlearn_eg", **run, resume=False)
    assert table.empty and not (tmp_path / "tuned_synthetic.csv").exists()
    # The command's resume=False reaches the method's searches (the worker's tuner then
    # joins the search its chief starts over, never deleting it: checked above); the
    # vanilla reference is always continued.
    assert searched == [
        ("vanilla", 0, True, oracle_port_offset("fairlearn_eg", 0, reference=True)),
        ("fairlearn_eg", 0, False, oracle_port_offset("fairlearn_eg", 0)),
        ("vanilla", 2, True, oracle_port_offset("fairlearn_eg", 2, reference=True)),
        ("fairlearn_eg", 2, False, oracle_port_offset("fairlearn_eg", 2)),
    ]


def test_a_distributed_chief_runs_the_searches_of_a_fold_already_written(tmp_path, monkeypatch):
    run = dict(out=tmp_path, searches=tmp_path / "s", budget=ONE_TRIAL, outer_folds=[0])
    tune_method(synthetic_dataset(), "fairlearn_eg", **run, selection="objective", verbose=0)
    csv = read_results(tmp_path / "tuned_synthetic.csv")
    searched = []
    monkeypatch.setattr(tuned, "search_fold", lambda *a, **k: searched.append(a[1]))
    record = TrialRecord({"epsilon": 0.01}, {"fairness_score": 2.0, "auc": 0.7}, "0")
    monkeypatch.setattr(tuned, "trial_records", lambda tuner, method: [record])
    tune_method(synthetic_dataset(), "fairlearn_eg", **run, selection="objective", verbose=0)
    assert searched == []  # not distributed: the written fold is skipped
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv(PORT, "5000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    tune_method(synthetic_dataset(), "fairlearn_eg", **run, selection="objective", verbose=0)
    # Run with the workers (a finished one returns at once), not refitted or written.
    assert searched == ["fairlearn_eg"]
    assert read_results(tmp_path / "tuned_synthetic.csv").equals(csv)


def _chief_and_two_workers(out):
    """Run tests/lab/experiments/tune_script.py as a chief and two workers; their outputs."""
    outputs = run_chief_and_workers("tests.lab.experiments.tune_script", out)
    return [len(re.findall(r"\] trial \d+: fairness_score", output)) for output in outputs]


@pytest.mark.slow
def test_a_chief_and_two_workers_tune_a_method_and_its_reference(tmp_path):
    # The workers ran the trials of both searches; the chief selected and wrote the row.
    ran = _chief_and_two_workers(tmp_path)
    assert ran[0] == 0 and ran[1] + ran[2] == 4 and min(ran[1:]) > 0
    table = read_results(tmp_path / "tuned_synthetic.csv")
    assert table["method"].tolist() == ["constant", "fairlearn_eg"]
    assert table["trials"].tolist() == [0, 2]

    # Run again: the fold is written and its searches are finished, so the chief and the
    # workers skip them alike (none serves or waits for the others), and no trial is run.
    def stored():
        return {p: p.read_bytes() for p in tmp_path.glob("s/synthetic/tiny/*/outer0/trial_*/*")}

    trials = stored()
    assert len({p.parent for p in trials}) == 4
    ran = _chief_and_two_workers(tmp_path)  # asserts that all three exit with 0
    assert ran == [0, 0, 0] and stored() == trials
    assert read_results(tmp_path / "tuned_synthetic.csv").equals(table)
