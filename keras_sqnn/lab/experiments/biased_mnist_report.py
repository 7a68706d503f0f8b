"""Biased-MNIST's Table 1 from its CSVs: the reported rows, ours, the targets, the selection.

Reads what :func:`keras_sqnn.lab.experiments.biased_mnist.run_biased_mnist` writes
(``biased_mnist.csv``, and ``biased_mnist_curves.csv`` for the validation accuracies of the
selection runs) and returns markdown lines for docs/RESULTS.md. Every measured setting is a
row of its own, labelled with its setting; nothing is averaged across settings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from keras_sqnn.lab.experiments.biased_mnist_network import BIAS_LABEL_METHODS, SQNN_METHODS

RHOS = (0.99, 0.995, 0.997)

# Table 1 as reported, unbiased test accuracy in % per training rho (None: not reported),
# with whether the method reads the colour labels in training. ReBias' LearnedMixin and
# RUBi learn the bias from a network of 1x1 convolutions, not from the labels.
REPORTED: dict[str, tuple[str, dict[float, float | None]]] = {
    "ReBias paper (Bahng et al. 2020), vanilla": ("no", {0.99: 89.1, 0.995: 72.1, 0.997: 33.4}),
    "ReBias paper, ReBias": ("no", {0.99: 88.1, 0.995: 76.0, 0.997: 64.2}),
    "ReBias paper, RUBi": ("no", {0.99: 93.6, 0.995: 90.4, 0.997: 43.0}),
    "ReBias paper, LearnedMixin": ("no", {0.99: 88.3, 0.995: 78.2, 0.997: 50.2}),
    "SQNN paper (Cerrato et al. 2022), BinaryBernoulli": (
        "yes",
        {0.99: 96.02, 0.995: 90.64, 0.997: None},
    ),
    "SQNN paper, BinaryMI": ("yes", {0.99: 88.54, 0.995: 89.08, 0.997: None}),
}

# Every method but vanilla reads the colour labels: the SQNNs' MI terms are I(T; colour)
# or I(T; colour | digit), the baselines weigh or group the images by (digit, colour).
USES_COLOUR_LABELS = {"vanilla": "no", **dict.fromkeys((*SQNN_METHODS, *BIAS_LABEL_METHODS), "yes")}


def validation_accuracies(folder: Path, *, epochs: int = 20) -> pd.DataFrame:
    """The last-epoch validation accuracy of each finished selection run in ``folder``.

    One row per (method, layer, gamma) run to ``epochs`` epochs at ``--budget cpu``
    (``folder/biased_mnist_curves.csv``), with ``val_unbiased_accuracy``.
    """
    curves = pd.read_csv(folder / "biased_mnist_curves.csv")
    curves = curves[curves["budget"] == "cpu"]
    keys = ["method", "layer", "gamma"]
    last = curves.sort_values("epoch", kind="stable").groupby(keys, sort=False).tail(1)
    return last[last["epoch"] == epochs][[*keys, "val_unbiased_accuracy"]]


def chosen_setting(folder: Path, method: str) -> tuple[str, float, float] | None:
    """(layer, gamma, validation accuracy) chosen for ``method``, or None if none finished.

    The finished selection run with the best validation accuracy: for an SQNN among
    gamma > 0 (gamma = 0 is its binary network's control), for a baseline among its own
    parameter's values; a tie goes to the larger parameter. Only the validation split is
    read, never the test images.
    """
    runs = validation_accuracies(folder)
    runs = runs[runs["method"] == method]
    if method in SQNN_METHODS:
        runs = runs[runs["gamma"] > 0]
    if runs.empty:
        return None
    # At equal validation accuracy the stronger setting (the larger parameter) is chosen.
    best = runs.sort_values(["val_unbiased_accuracy", "gamma"], kind="stable").iloc[-1]
    return str(best["layer"]), float(best["gamma"]), float(best["val_unbiased_accuracy"])


def setting(method: str, layer: str, gamma: float) -> str:
    """A measured row's label: the method and the setting it ran with."""
    if method == "vanilla":
        return "vanilla"
    if method == "reweighting":
        return f"reweighting, weights capped at {gamma:g}"
    if method == "group_dro":
        return f"group_dro, step {gamma:g}"
    blocks = {"first": "first block", "last": "last block", "all": "all blocks"}.get(layer, layer)
    return f"{method}, {blocks} binary, gamma {gamma:g}"


def accuracies(table: pd.DataFrame, method: str, rho: float) -> pd.Series:
    """The unbiased test accuracies (%) of ``method`` at ``rho``, one per seed."""
    rows = table[(table["method"] == method) & (table["rho"] == rho)]
    return 100 * rows["unbiased_accuracy"]


def chosen_rows(table: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """The rows of ``table`` at each method's chosen setting (vanilla has one setting).

    A method with no finished selection run keeps all its rows (one setting is expected).
    """
    keep = pd.Series(True, index=table.index)
    for method in set(table["method"]) - {"vanilla"}:
        chosen = chosen_setting(folder, method) if folder.exists() else None
        if chosen is not None:
            layer, gamma, _ = chosen
            of_method = table["method"] == method
            at_setting = (table["gamma"] == gamma) & (
                (table["layer"] == layer) | (method not in SQNN_METHODS)
            )
            keep &= ~of_method | at_setting
    return table[keep]


def _cell(values: pd.Series) -> str:
    if len(values) > 1:
        return f"{values.mean():.1f} ± {values.std(ddof=1):.1f} ({len(values)} seeds)"
    return f"{values.iloc[0]:.1f} (1 seed)" if len(values) else "not run"


def table_lines(table: pd.DataFrame | None, chosen: pd.DataFrame | None = None) -> list[str]:
    """Table 1: the reported rows, then each measured (method, setting) as mean ± std.

    A setting not in ``chosen`` (the rows at each method's chosen setting) is marked
    "not chosen on validation".
    """
    header = " | ".join(f"rho = {rho}" for rho in RHOS)
    lines = [
        f"| source | method | uses the colour labels | {header} |",
        "|---|---|---|" + "---|" * len(RHOS),
    ]
    for name, (labels, reported) in REPORTED.items():
        source, method = name.split(", ", 1)
        cells = " | ".join("—" if reported[rho] is None else f"{reported[rho]:.1f}" for rho in RHOS)
        lines.append(f"| reported: {source} | {method} | {labels} | {cells} |")
    if table is None:
        return lines
    for (method, layer, gamma, budget), rows in table.groupby(
        ["method", "layer", "gamma", "budget"], sort=False
    ):
        cells = " | ".join(_cell(accuracies(rows, method, rho)) for rho in RHOS)
        label = setting(method, layer, gamma)
        if chosen is not None and not rows.index.isin(chosen.index).any():
            label += " (not chosen on validation)"
        lines.append(
            f"| measured: this package, `--budget {budget}` | {label} "
            f"| {USES_COLOUR_LABELS.get(method, '?')} | {cells} |"
        )
    return lines


def _vanilla_lines(table: pd.DataFrame, methods: set[str]) -> list[str]:
    """Each SQNN of ``methods`` against vanilla (+5 points beyond the seeds' spread).

    ``table`` holds the rows at each method's chosen setting: a method whose chosen setting
    has not run yet reads "0 of 3 seeds run".
    """
    lines = []
    for method in SQNN_METHODS:
        if method not in methods:
            continue
        verdicts = []
        for rho in RHOS:
            ours, vanilla = accuracies(table, method, rho), accuracies(table, "vanilla", rho)
            if len(ours) < 3 or len(vanilla) < 3:
                verdicts.append(f"rho {rho}: {len(ours)} of 3 seeds run")
                continue
            gain = ours.mean() - vanilla.mean()
            spread = max(ours.std(ddof=1), vanilla.std(ddof=1))
            met = gain >= 5 and gain > spread
            verdicts.append(
                f"rho {rho}: {gain:+.1f} points (std up to {spread:.1f}), "
                f"{'met' if met else 'not met'}"
            )
        lines.append(f"- {method} against vanilla (target +5 points): " + "; ".join(verdicts))
    return lines


def bias_label_target(table: pd.DataFrame) -> list[str]:
    """The conditional SQNN against the best bias-label baseline at each rho (3 seeds each).

    Decided when every method has 3 seeds, or earlier as "not met" when a baseline that has
    them is already above the SQNN (the best can only be higher).
    """
    conditional = "binary_bernoulli_conditional"
    verdicts = []
    for rho in RHOS:
        ours = accuracies(table, conditional, rho)
        baselines = {m: accuracies(table, m, rho) for m in BIAS_LABEL_METHODS if m != conditional}
        complete = {m: values for m, values in baselines.items() if len(values) >= 3}
        best = max(complete, key=lambda m: complete[m].mean()) if complete else None
        if (
            len(ours) < 3
            or best is None
            or (len(complete) < len(baselines) and complete[best].mean() <= ours.mean())
        ):
            counts = ", ".join(f"{m} {len(v)}" for m, v in {conditional: ours, **baselines}.items())
            verdicts.append(f"rho {rho}: not decided (seeds run: {counts})")
            continue
        difference = ours.mean() - complete[best].mean()
        pending = [m for m in baselines if m not in complete]
        verdicts.append(
            f"rho {rho}: {ours.mean():.1f} ± {ours.std(ddof=1):.1f} against {best} "
            f"{complete[best].mean():.1f} ± {complete[best].std(ddof=1):.1f}, "
            f"{difference:+.1f} points, {'met' if difference >= 0 else 'not met'}"
            + (f" ({', '.join(pending)} not run yet)" if pending else "")
        )
    return [
        "- The conditional SQNN at or above the best baseline that uses the same colour labels "
        "(mean ± std over 3 seeds): " + "; ".join(verdicts)
    ]


def selection_lines(folder: Path) -> list[str]:
    """The runs that chose each method's setting, on the validation split."""
    results, curves = folder / "biased_mnist.csv", folder / "biased_mnist_curves.csv"
    if not results.exists() or not curves.exists():
        return []
    table, epochs = pd.read_csv(results), pd.read_csv(curves)
    keys = ["method", "rho", "seed", "layer", "gamma"]
    last = epochs.sort_values("epoch").groupby(keys, sort=False).tail(1)
    table = table.merge(last[[*keys, "val_unbiased_accuracy"]], on=keys, how="left")
    table = table.sort_values(["method", "layer", "gamma"])
    lines = [
        "### Choosing each method's setting (validation split, rho = 0.99, seed 0)",
        "",
        "Each method's setting is the one with the best last-epoch accuracy on 10,000 held-out",
        "*training* images recoloured at rho = 0.1: for an SQNN its binary blocks and gamma",
        "(every gamma > 0; gamma = 0 is the binary network without a regularizer, a control),",
        "for reweighting the cap on an image's weight, for Group DRO its step size. The test",
        "columns are recorded by the same runs, not used to choose",
        "(`scripts/biased_mnist_final.py`).",
        "",
        "| method | binary blocks | gamma | validation unbiased (%) | test unbiased (%) |"
        " test biased (%) |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.method} | {row.layer} | {row.gamma:g} | {100 * row.val_unbiased_accuracy:.1f}"
            f" | {100 * row.unbiased_accuracy:.1f} | {100 * row.biased_accuracy:.1f} |"
        )
    return [*lines, ""]


def section(path: Path) -> list[str]:
    """Docs/RESULTS.md's Biased-MNIST section from ``path`` (``docs/results/biased_mnist.csv``)."""
    table = pd.read_csv(path) if path.exists() else None
    selection = path.parent / "biased_mnist_selection"
    chosen = None if table is None else chosen_rows(table, selection)
    lines = [
        "## Biased-MNIST (Table 1): `keras-sqnn biased-mnist --budget cpu`",
        "",
        "Unbiased test accuracy (%): MNIST test images with background colours independent of",
        "the digit (rho = 0.1). *Reported* rows are the papers' figures (80 epochs, GPU).",
        "*Measured* rows: `--budget cpu` (docs/BIASED_MNIST.md: 4 blocks of 3x3 convolutions",
        "with max pooling, 20 epochs one-cycle to 6e-3, 50,000 training images) on a 2-vCPU",
        "machine, mean ± std over seeds, from `docs/results/biased_mnist.csv`, each at the",
        "setting chosen on the validation split (below).",
        "",
        *table_lines(table, chosen),
        "",
    ]
    if table is not None and chosen is not None:
        lines += [
            "Targets, each method at its chosen setting:",
            "",
            *_vanilla_lines(chosen, set(table["method"])),
            *bias_label_target(chosen),
            "",
        ]
    return [*lines, *selection_lines(selection)]
