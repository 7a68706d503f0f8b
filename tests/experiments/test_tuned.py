import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keras_sqnn import tuning
from keras_sqnn.datasets import fetch_compas
from keras_sqnn.experiments import CSV_COLUMNS, TUNED_METHODS, build_method, read_results
from keras_sqnn.experiments.method_search import (
    TUNING_BUDGETS,
    MethodHyperModel,
    subsample,
    trial_records,
)
from keras_sqnn.experiments.tuned import tune_method
from tests.experiments.test_compare import synthetic_dataset
from tests.tuning.search_script import synthetic_folds
from tests.tuning.test_tuning import _free_port

ROOT = Path(__file__).resolve().parents[2]

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
        expected.append(tuning.fairness_score(fold.y_test, scores, fold.s_test))
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
    assert row["fold"] == 1 and row["budget"] == "tiny" and row["trials"] == 1
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


def test_each_search_of_a_distributed_run_gets_its_own_oracle_port(tmp_path, monkeypatch):
    # The chief leaves a finished search's server running; the next search must not reuse
    # its port, or the workers would ask the finished oracle for trials.
    monkeypatch.setattr(tuning, "_base_port", [])
    monkeypatch.setattr(tuning, "_searches_started", iter(range(100)))
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "5000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    ports = []
    for name in ("a", "b", "c"):
        _tuner(tmp_path / name, "fairlearn_eg", 1)
        ports.append(os.environ["KERASTUNER_ORACLE_PORT"])
    assert ports == ["5000", "5001", "5002"]


@pytest.mark.slow
def test_a_chief_and_two_workers_tune_a_method_and_its_reference(tmp_path):
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(_free_port())}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.experiments.tune_script", str(tmp_path)],
            cwd=ROOT,
            env={**os.environ, **env, "KERASTUNER_TUNER_ID": tuner_id},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tuner_id in ("chief", "tuner0", "tuner1")
    ]
    try:
        outputs = [p.communicate(timeout=600)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert [p.returncode for p in processes] == [0, 0, 0], outputs[0][-2000:]
    # The workers ran the trials of both searches; the chief selected and wrote the row.
    ran = [len(re.findall(r"\] trial \d+: fairness_score", output)) for output in outputs]
    assert ran[0] == 0 and ran[1] + ran[2] == 4 and min(ran[1:]) > 0
    table = read_results(tmp_path / "tuned_synthetic.csv")
    assert table["method"].tolist() == ["constant", "fairlearn_eg"]
    assert table["trials"].tolist() == [0, 2]
