import pandas as pd

from keras_sqnn.lab.experiments import biased_mnist_report
from keras_sqnn.lab.experiments.biased_mnist import CSV_COLUMNS


def _rows(accuracies):
    """biased_mnist.csv rows: {(method, layer, gamma, rho): [accuracy per seed]}."""
    rows = []
    for (method, layer, gamma, rho), values in accuracies.items():
        for seed, value in enumerate(values):
            rows.append(
                {
                    "method": method,
                    "rho": rho,
                    "seed": seed,
                    "layer": layer,
                    "estimator": "none",
                    "gamma": gamma,
                    "epochs": 20,
                    "train_images": 50000,
                    "budget": "cpu",
                    "unbiased_accuracy": value,
                    "biased_accuracy": 0.99,
                    "train_seconds": 1.0,
                }
            )
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


CONDITIONAL = ("binary_bernoulli_conditional", "last", 0.5)
REWEIGHTING = ("reweighting", "none", 100.0)
GROUP_DRO = ("group_dro", "none", 0.01)


def test_table_labels_each_setting_and_who_uses_the_colour_labels(tmp_path):
    table = _rows(
        {
            ("vanilla", "none", 0.0, 0.99): [0.86, 0.87, 0.88],
            (*CONDITIONAL, 0.99): [0.94],
            ("binary_bernoulli", "first", 1e-6, 0.99): [0.80, 0.82],
            ("binary_bernoulli", "last", 1e-3, 0.99): [0.70, 0.72],
        }
    )
    table.to_csv(tmp_path / "biased_mnist.csv", index=False)
    text = "\n".join(biased_mnist_report.section(tmp_path / "biased_mnist.csv"))
    header = "| source | method | uses the colour labels | rho = 0.99 | rho = 0.995 | rho = 0.997 |"
    assert header in text
    # Reported: ReBias' rows at rho 0.997, the SQNN paper's not reported there.
    assert "| reported: ReBias paper | ReBias | no | 88.1 | 76.0 | 64.2 |" in text
    assert "| BinaryBernoulli | yes | 96.0 | 90.6 | — |" in text
    # Measured: mean ± std (ddof 1) per setting, both BinaryBernoulli settings shown.
    assert "| vanilla | no | 87.0 ± 1.0 (3 seeds) | not run | not run |" in text
    assert "first block binary, gamma 1e-06 | yes | 81.0 ± 1.4 (2 seeds)" in text
    assert "last block binary, gamma 0.001 | yes | 71.0 ± 1.4 (2 seeds)" in text
    assert (
        "binary_bernoulli_conditional, last block binary, gamma 0.5 | yes | 94.0 (1 seed)" in text
    )


def test_bias_label_target_compares_with_the_best_baseline_at_each_rho():
    table = _rows(
        {
            (*CONDITIONAL, 0.99): [0.94, 0.95, 0.93],
            (*REWEIGHTING, 0.99): [0.96, 0.97, 0.95],
            (*GROUP_DRO, 0.99): [0.90, 0.91, 0.89],
            (*CONDITIONAL, 0.995): [0.91, 0.92, 0.90],
            (*REWEIGHTING, 0.995): [0.88, 0.89, 0.87],
            (*GROUP_DRO, 0.995): [0.89, 0.90, 0.88],
            (*CONDITIONAL, 0.997): [0.80, 0.81, 0.79],
            (*REWEIGHTING, 0.997): [0.70],
        }
    )
    early = _rows(
        {
            (*CONDITIONAL, 0.995): [0.91, 0.92, 0.90],
            (*REWEIGHTING, 0.995): [0.94, 0.95, 0.93],
            (*CONDITIONAL, 0.997): [0.80, 0.81, 0.79],
            (*REWEIGHTING, 0.997): [0.70, 0.71, 0.69],
        }
    )
    (early_line,) = biased_mnist_report.bias_label_target(early)
    # Group DRO has not run: a baseline already above the SQNN decides "not met" (the best
    # can only be higher); one below it decides nothing.
    assert (
        "rho 0.995: 91.0 ± 1.0 against reweighting 94.0 ± 1.0, -3.0 points, not met "
        "(group_dro not run yet)" in early_line
    )
    assert "rho 0.997: not decided (seeds run: binary_bernoulli_conditional 3, reweighting 3" in (
        early_line
    )
    (line,) = biased_mnist_report.bias_label_target(table)
    # rho 0.99: reweighting (96) is the best baseline and beats the SQNN (94) by 2 points.
    assert "rho 0.99: 94.0 ± 1.0 against reweighting 96.0 ± 1.0, -2.0 points, not met" in line
    # rho 0.995: group_dro (89) is the best baseline; the SQNN (91) is above it.
    assert "rho 0.995: 91.0 ± 1.0 against group_dro 89.0 ± 1.0, +2.0 points, met" in line
    assert (
        "rho 0.997: not decided (seeds run: binary_bernoulli_conditional 3, reweighting 1, "
        "group_dro 0)" in line
    )


def _selection(folder, runs):
    """A selection folder whose curves end at epoch 20 with these validation accuracies."""
    folder.mkdir()
    rows = [
        {
            "method": method,
            "rho": 0.99,
            "seed": 0,
            "layer": layer,
            "budget": "cpu",
            "gamma": gamma,
            "epoch": epoch,
            "val_unbiased_accuracy": accuracy if epoch == epochs else 0.0,
        }
        for (method, layer, gamma, epochs), accuracy in runs.items()
        for epoch in range(1, epochs + 1)
    ]
    pd.DataFrame(rows).to_csv(folder / "biased_mnist_curves.csv", index=False)
    return folder


def test_the_chosen_setting_is_the_best_finished_validation_run(tmp_path):
    folder = _selection(
        tmp_path / "selection",
        {
            # The control (gamma 0) is the best SQNN run, but it is not a candidate.
            ("binary_bernoulli", "first", 0.0, 20): 0.81,
            ("binary_bernoulli", "first", 1e-6, 20): 0.80,
            ("binary_bernoulli", "last", 1e-3, 20): 0.69,
            # Unfinished (12 of 20 epochs): not a candidate, however good.
            ("binary_bernoulli", "last", 1e-5, 12): 0.95,
            # A baseline's parameter competes whatever its value.
            ("reweighting", "none", 10.0, 20): 0.948,
            ("reweighting", "none", 100.0, 20): 0.966,
            # A tie (a cap that does not bind trains the same model): the larger parameter.
            ("group_dro", "none", 0.01, 20): 0.90,
            ("group_dro", "none", 0.001, 20): 0.90,
        },
    )
    choose = biased_mnist_report.chosen_setting
    assert choose(folder, "binary_bernoulli") == ("first", 1e-6, 0.80)
    assert choose(folder, "reweighting") == ("none", 100.0, 0.966)
    assert choose(folder, "group_dro") == ("none", 0.01, 0.90)
    assert choose(folder, "binary_mi") is None

    table = _rows(
        {
            ("binary_bernoulli", "last", 1e-3, 0.99): [0.70, 0.72, 0.71],
            ("binary_bernoulli", "first", 1e-6, 0.99): [0.80],
            ("reweighting", "none", 10.0, 0.99): [0.94],
            ("reweighting", "none", 100.0, 0.99): [0.96],
            ("vanilla", "none", 0.0, 0.99): [0.86],
        }
    )
    chosen = biased_mnist_report.chosen_rows(table, folder)
    kept = set(zip(chosen["method"], chosen["layer"], chosen["gamma"], strict=True))
    assert kept == {
        ("binary_bernoulli", "first", 1e-6),
        ("reweighting", "none", 100.0),
        ("vanilla", "none", 0.0),
    }
    lines = biased_mnist_report.table_lines(table, chosen)
    (last,) = [line for line in lines if "last block binary, gamma 0.001" in line]
    assert "(not chosen on validation)" in last
    (first,) = [line for line in lines if "first block binary, gamma 1e-06" in line]
    assert "not chosen" not in first
    # Against vanilla, the chosen setting (one seed run) is not the three-seed one.
    (line,) = biased_mnist_report._vanilla_lines(chosen, set(table["method"]))
    assert line.startswith("- binary_bernoulli against vanilla") and "rho 0.99: 1 of 3" in line
