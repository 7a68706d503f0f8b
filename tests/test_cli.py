import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_sqnn.cli import main


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
    for key in ("auc", "gpa", "audc", "adrg", "accuracy"):
        assert 0.0 <= results[key] <= 1.0
    assert results["auc"] > 0.6  # two epochs already rank COMPAS recidivism above chance
    folder = tmp_path / "compas"
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    x = np.random.default_rng(0).normal(size=(5, model.stack[0].kernel.shape[0])).astype("float32")
    script = (
        "import sys, numpy as np, tensorflow as tf;"
        f"m = tf.saved_model.load({str(folder / 'serving')!r});"
        f"x = np.load({str(tmp_path / 'x.npy')!r});"
        "print(m.serve(tf.constant(x)).numpy().ravel().tolist())"
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


def test_tune_runs_the_nested_search_and_refuses_a_silent_reload(tmp_path, capsys):
    args = [
        "tune",
        "--dataset",
        "compas",
        "--max-trials",
        "1",
        "--epochs",
        "1",
        "--outer-folds",
        "0",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    table = (tmp_path / "compas" / "tune.csv").read_text().splitlines()
    assert len(table) == 2 and "inner_score" in table[0]
    with pytest.raises(FileExistsError, match="resume=True"):
        main(args)
    assert main([*args, "--resume"]) == 0


def _small_compas_run(command, methods, out):
    """Arguments of a 2-fold, 1-epoch COMPAS run of an experiment command."""
    options = ["--dataset", "compas", "--folds", "2", "--epochs", "1", "--out", str(out)]
    return [command, *options, "--methods", *methods]


def test_compare_writes_tables_and_the_tradeoff_figure(tmp_path, capsys):
    args = _small_compas_run("compare", ["binary_bernoulli", "vanilla"], tmp_path)
    assert main(args) == 0
    folder = tmp_path / "compas"
    table = (folder / "compare.csv").read_text().splitlines()
    assert len(table) == 1 + 2 * 2  # one row per (method, gamma, fold)
    assert (folder / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "binary_bernoulli" in (folder / "compare_summary.csv").read_text()


def test_representation_writes_the_probe_figure(tmp_path):
    args = _small_compas_run("representation", ["binary_bernoulli"], tmp_path)
    assert main(args) == 0
    assert (tmp_path / "compas" / "representation.png").read_bytes()[:4] == b"\x89PNG"


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
