import json
import re
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from keras_sqnn import information
from keras_sqnn.datasets import TabularPreprocessor
from keras_sqnn.lab.cli import main
from keras_sqnn.lab.experiments import summarize
from keras_sqnn.lab.experiments.main_job import information_summary
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential


def test_train_prints_fairness_metrics_and_exports(tmp_path, capsys):
    code = main(
        [
            "train",
            "--dataset",
            "compas",
            "--epochs",
            "2",
            "--probe-trees",
            "10",
            "--verbose",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    results = json.loads(printed[printed.index("{") :])
    # What is proven is printed beside what is measured, and the theta-score has no proof.
    assert "what is proven" in printed and "no certificate" in printed
    assert f"<= {results['threshold_certified_dp_bound']:.3f}" in printed
    for key in ("auc", "gpa", "audc", "adrg", "accuracy"):
        assert 0.0 <= results[key] <= 1.0
    assert results["auc"] > 0.6  # two epochs already rank COMPAS recidivism above chance
    folder = tmp_path / "compas"
    # The run's metrics are saved next to the model, as printed.
    assert json.loads((folder / "metrics.json").read_text()) == results
    assert results["saved_to"] == str(folder)
    # The plug-in count of 20-bit codes, which saturates at H(S), is no longer reported.
    assert "counting_mi_t_s_bits" not in results
    assert results["mi_t_s_samples_per_row"] == 10 and results["mi_t_s_rows"] > 1000
    assert 0.0 <= results["sum_unit_mi_t_s_bits"]
    assert results["mi_t_s_mixture_bits"] < results["entropy_s_bits"]
    preprocessor = TabularPreprocessor.from_config(
        json.loads((folder / "preprocessor.json").read_text())
    )
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    assert model.stack[0].kernel.shape[0] == len(preprocessor.get_feature_names_out())
    x = np.random.default_rng(0).normal(size=(5, model.stack[0].kernel.shape[0])).astype("float32")
    script = (
        "import sys, numpy as np, tensorflow as tf;"
        f"m = tf.saved_model.load({str(folder / 'serving')!r});"
        f"x = np.load({str(tmp_path / 'x.npy')!r});"
        "print(m.serve_features(tf.constant(x)).numpy().ravel().tolist())"
    )
    np.save(tmp_path / "x.npy", x)
    served = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    np.testing.assert_allclose(
        json.loads(served.stdout.strip().splitlines()[-1]),
        model.predict(x, verbose=0).ravel(),
        rtol=1e-5,
        atol=1e-6,
    )
    # No staging folders are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compas", "x.npy"]


def test_an_out_that_cannot_be_written_fails_before_training(tmp_path, monkeypatch):
    import keras_sqnn.classifiers
    import keras_sqnn.datasets

    def no_work(*args, **kwargs):
        raise AssertionError("started work before checking --out")

    monkeypatch.setattr(keras_sqnn.classifiers, "build_sqnn_classifier", no_work)
    monkeypatch.setattr(keras_sqnn.datasets, "fetch_compas", no_work)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = blocker / "models"
    for command in (["train"], ["tune"], ["compare", "--methods", "vanilla"]):
        with pytest.raises(SystemExit, match="--out") as raised:
            main([*command, "--dataset", "compas", "--out", str(out)])
        assert str(out) in str(raised.value)


def _representation_model(kernel: float, units: int = 24) -> SensitiveSequential:
    """Feature 0 is 2S - 1; every unit reads it with weight `kernel` (0: T independent of S)."""
    model = SensitiveSequential(
        [
            keras.Input((3,)),
            StochasticBinaryDense(
                units,
                mi_estimator="bernoulli",
                kernel_initializer=keras.initializers.Constant(kernel),
                name="representation",
            ),
        ]
    )
    return model


@pytest.mark.parametrize("kernel, expected", [(0.0, 0.0), (30.0, 1.0)])
def test_train_summary_estimates_i_t_s_without_saturating(kernel, expected):
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, 600).astype("int32")
    x = np.zeros((600, 3), "float32")
    x[:, 0] = 2.0 * s - 1.0
    model = _representation_model(kernel)
    summary = information_summary(model, x, s, rows=400, n_samples=4)
    assert summary["mi_t_s_rows"] == 400 and summary["mi_t_s_samples_per_row"] == 4
    assert summary["entropy_s_bits"] == pytest.approx(1.0, abs=0.01)
    # T independent of S (theta = 0.5 everywhere) carries 0 bits; T copying S carries H(S).
    # The plug-in histogram of the 24-bit codes the summary used to report gives about
    # H(S) in both cases (almost every code is unique).
    entropy_s = summary["entropy_s_bits"]
    assert summary["mi_t_s_mixture_bits"] == pytest.approx(expected * entropy_s, abs=0.02)
    assert summary["sum_unit_mi_t_s_bits"] == pytest.approx(24 * expected * entropy_s, abs=0.05)
    if kernel == 0.0:
        codes = rng.integers(0, 2, (400, 24)).astype("float32")
        counting = information.counting_mutual_information(codes, s[:400], 2)
        assert counting > 0.8


def test_unknown_dataset_is_rejected():
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "mnist"])


@pytest.mark.slow
def test_main_job_command_as_readme_gives_it(tmp_path):
    # README's main job, with the paper's settings, through `python -m keras_sqnn`.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_sqnn",
            "train",
            "--dataset",
            "adult",
            "--verbose",
            "0",
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    results = json.loads(completed.stdout[completed.stdout.index("{") :])
    assert results["auc"] > 0.85
    assert (tmp_path / "adult" / "serving" / "saved_model.pb").exists()


def test_tune_appends_the_tuned_rows_and_resumes(tmp_path, capsys):
    args = [
        "tune",
        "--dataset",
        "compas",
        "--method",
        "vanilla",
        "--max-trials",
        "1",
        "--epochs",
        "1",
        "--probe-trees",
        "10",
        "--outer-folds",
        "0",
        "--out",
        str(tmp_path),
        "--searches",
        str(tmp_path / "searches"),
    ]
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "tuned_compas.csv")
    assert table["method"].tolist() == ["constant", "vanilla"]
    # Each override renames the budget: rows of other trial counts are never averaged.
    assert table["budget"].tolist() == ["none", "cpu_trials1_epochs1_probe10"]
    assert table["trials"].tolist() == [0, 1]
    search = tmp_path / "searches" / "compas" / "cpu_trials1_epochs1_probe10" / "vanilla"
    search = search / "outer0"
    assert (search / "keras_sqnn_search.json").exists()
    printed = capsys.readouterr().out
    # Progress: one line per inner fold of the trial, per trial, per outer fold, per method.
    assert re.findall(
        r"\[compas vanilla outer0\] trial 0 fold (\d)/3: fairness_score [\d.]+ \([\d.]+ s\)",
        printed,
    ) == ["1", "2", "3"]
    assert re.search(
        r"\[compas vanilla outer0\] trial 0: fairness_score [\d.]+ AUC [\d.]+ GPA [\d.]+ "
        r"AUDC [\d.]+ \([\d.]+ s, [\d.]+ s elapsed in this search\)",
        printed,
    )
    assert re.search(
        r"\[compas vanilla\] outer fold 0: trial 0 of 1 by auc_floor, vanilla's best inner "
        r"AUC [\d.]+: inner fairness_score [\d.]+ AUC [\d.]+; test AUC [\d.]+ GPA [\d.]+ "
        r"AUDC [\d.]+ \(refit [\d.]+ s, [\d.]+ s elapsed\)",
        printed,
    )
    assert re.search(r"\[keras-sqnn\] compas vanilla: done, [\d.]+ s elapsed", printed)
    # A rerun resumes: the row is there, nothing is trained again.
    assert main([*args, "--resume"]) == 0
    assert "outer fold 0: already in" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "tuned_compas.csv").equals(table)
    with pytest.raises(SystemExit, match="--resume or --overwrite"):
        main([*args, "--resume", "--overwrite"])


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-trials", "0"), ("--max-trials", "-3"), ("--epochs", "0"), ("--probe-trees", "0")],
)
def test_tune_refuses_a_budget_below_one_before_loading_data(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as info:
        main(["tune", "--out", str(tmp_path), option, value])
    assert info.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {option}: expected an integer >= 1. Received: {value}" in error
    assert not (tmp_path / "tuned_compas.csv").exists()


def test_tune_options_come_from_the_package():
    from keras_sqnn.lab import cli
    from keras_sqnn.lab.experiments.selection import SELECTION_RULES

    tune = cli._parser()._subparsers._group_actions[0].choices["tune"]
    selection = next(a for a in tune._actions if a.dest == "selection")
    assert tuple(selection.choices) == SELECTION_RULES and selection.default == "auc_floor"
    args = tune.parse_args(["--max-trials", "20"])
    assert cli.tuning_budget(args).name == "cpu_trials20"
    assert cli.tuning_budget(args).trials == 20


def test_tune_checks_the_searches_folder_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit, match="--searches"):
        main(["tune", "--out", str(tmp_path), "--searches", str(blocker / "searches")])


def _small_compas_run(command, methods, out):
    """Arguments of a 2-fold, 1-epoch COMPAS run of an experiment command."""
    options = ["--dataset", "compas", "--folds", "2", "--epochs", "1", "--out", str(out)]
    return [command, *options, "--methods", *methods]


def test_compare_writes_tables_and_the_tradeoff_figure(tmp_path, capsys):
    args = _small_compas_run("compare", ["binary_bernoulli", "vanilla"], tmp_path)
    assert main(args) == 0
    printed = capsys.readouterr().out
    # Progress: one line per (fold, method) as it finishes, with its and the total seconds.
    progress = re.findall(
        r"\[compas fold (\d)/2, fit (\d)/4\] (\w+) gamma=[\d.e-]+: AUC .* "
        r"\(fit [\d.]+ s, [\d.]+ s elapsed\)",
        printed,
    )
    assert progress == [
        ("1", "1", "binary_bernoulli"),
        ("1", "2", "vanilla"),
        ("2", "3", "binary_bernoulli"),
        ("2", "4", "vanilla"),
    ]
    folder = tmp_path / "compas"
    table = (folder / "compare.csv").read_text().splitlines()
    assert len(table) == 1 + 2 * 2  # one row per (method, gamma, fold)
    assert (folder / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "binary_bernoulli" in (folder / "compare_summary.csv").read_text()


def test_representation_writes_the_probe_figure(tmp_path, capsys):
    args = _small_compas_run("representation", ["binary_bernoulli"], tmp_path)
    args[args.index("--folds") + 1] = "1"
    assert main(args) == 0
    assert (tmp_path / "compas" / "representation.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    # One fold: the summary prints the values, without a "± nan" spread.
    assert "nan" not in printed and "±" not in printed
    assert re.search(r"binary_bernoulli\s.*\s0\.\d{3}\s", printed)


def test_summary_of_one_fold_prints_values_without_nan_spread():
    table = pd.DataFrame(
        {
            "dataset": "d",
            "method": ["m", "m", "n"],
            "param_name": "gamma",
            "param": [0.5, 0.5, 0.1],
            "fold": [0, 1, 0],
            "auc": [0.7, 0.8, 0.6],
        }
    )
    assert summarize(table, text=True)["auc"].tolist() == ["0.750 ± 0.071", "0.600"]


@pytest.mark.slow
def test_sweep_prints_correlations(tmp_path, capsys):
    args = [
        "sweep",
        "--dataset",
        "compas",
        "--methods",
        "binary_bernoulli",
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    correlations = (tmp_path / "compas" / "sweep_correlations.csv").read_text()
    assert "pearson_gamma_1_minus_gpa" in correlations
    assert (tmp_path / "compas" / "sweep.png").exists()


def test_compare_tuned_draws_figures_2_and_4_and_prints_the_cells(tmp_path, capsys):
    from tests.lab.experiments.test_tuned_report import DISTANCES, _rows

    tuned = tmp_path / "tuned"
    tuned.mkdir()
    pd.DataFrame(_rows(DISTANCES)).to_csv(tuned / "tuned_compas.csv", index=False)
    out = tmp_path / "figures"
    assert main(["compare", "--tuned", str(tuned), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # binary_bernoulli is best by 0.02 in the fixture, in both planes.
    for plane in ("gpa", "audc"):
        assert f"compas {plane}: met; best binary_bernoulli 0.300" in printed
    for figure in ("fig2", "fig4"):
        assert (out / f"tuned_compas_{figure}.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(FileNotFoundError):
        main(["compare", "--tuned", str(tmp_path / "empty"), "--out", str(out)])
    # A second budget needs choosing; its rows are reported alone.
    rows = _rows({**DISTANCES, "binary_bernoulli": 0.5})
    rows = pd.concat([_rows(DISTANCES), rows[rows["method"] != "constant"].assign(budget="b2")])
    rows.to_csv(tuned / "tuned_compas.csv", index=False)
    with pytest.raises(ValueError, match=r"found budgets \['cpu', 'b2'\]"):
        main(["compare", "--tuned", str(tuned), "--out", str(out)])
    assert main(["compare", "--tuned", str(tuned), "--out", str(out), "--tuned-budget", "b2"]) == 0
    assert "compas gpa: not met; best adv_cls 0.320" in capsys.readouterr().out


def test_biased_mnist_command_offers_the_package_methods():
    from keras_sqnn.lab import cli
    from keras_sqnn.lab.experiments import biased_mnist

    assert cli.MNIST_METHODS == biased_mnist.METHODS
    assert cli.MNIST_PAPER_METHODS == biased_mnist.PAPER_METHODS
