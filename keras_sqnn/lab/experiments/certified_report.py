"""The report and figure of ``keras-sqnn certify``: selection on validation, verdicts, plots.

Reads the CSV that :func:`keras_sqnn.lab.experiments.certified.run_certified` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_sqnn.lab.experiments.certified import CONFIDENCE, SQNN_METHODS, TARGETS


def select_certified(table: Any, target: float) -> Any:
    """The SQNN decision chosen for ``target``: most accurate on validation among those
    whose predicted test bound (validation plug-in TV + test radius) is at most ``target``.

    Returns the chosen row (a pandas Series), or None if none qualifies.
    """
    sqnn = table[table["method"].isin(SQNN_METHODS)]
    predicted = sqnn["val_plugin_tv"] + sqnn["test_radius"]
    eligible = sqnn[predicted <= target]
    if eligible.empty:
        return None
    return eligible.loc[eligible["val_accuracy"].idxmax()]


def _eg_ceiling(table: Any, limit: float = 0.03) -> Any:
    """ExponentiatedGradient's most accurate epsilon on validation with a val DP gap <= limit."""
    eg = table[(table["method"] == "fairlearn_eg") & (table["val_dp_gap"] <= limit)]
    return None if eg.empty else eg.loc[eg["val_accuracy"].idxmax()]


def report(path: str | Path, dataset: str, targets: Sequence[float] | None = None) -> str:
    """A markdown report of ``certified_<dataset>.csv``: the selected decision per target
    bound with its verdict, the references, and every row measured."""
    import pandas as pd

    table = pd.read_csv(path)
    targets = targets or TARGETS.get(dataset, (0.05,))
    lines = [
        f"Certified decisions on {dataset} ({CONFIDENCE:.0%} confidence, test split; chosen "
        "on validation)",
        "",
        "| target bound | chosen (units, gamma, sharpness, code) | val accuracy | test "
        "accuracy | test certified bound | test plug-in TV | test measured DP gap | bound met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for target in targets:
        row = select_certified(table, target)
        if row is None:
            lines.append(f"| {target:.2f} | none qualifies on validation | | | | | | no |")
            continue
        lines.append(
            f"| {target:.2f} | {int(row['units'])}, {row['gamma']:g}, {row['sharpness']:g}, "
            f"{row['inference']} | "
            f"{row['val_accuracy']:.3f} | {row['test_accuracy']:.3f} | {row['test_bound']:.3f} "
            f"| {row['test_plugin_tv']:.3f} | {row['test_dp_gap']:.3f} | "
            f"{'yes' if row['test_bound'] <= target else 'no'} |"
        )
    constant = table[table["method"] == "constant"].iloc[0]
    unregularised = table[(table["method"] == "sqnn") & (table["gamma"] == 0.0)]
    lines += ["", "References (test split):", ""]
    lines.append(f"- constant predictor: accuracy {constant['test_accuracy']:.3f}, certified 0")
    if not unregularised.empty:
        best = unregularised.loc[unregularised["val_accuracy"].idxmax()]
        lines.append(
            f"- unregularised network (gamma 0, best on validation: {int(best['units'])} units, "
            f"{best['inference']} code): accuracy {best['test_accuracy']:.3f}, measured DP gap "
            f"{best['test_dp_gap']:.3f} (certified bound {best['test_bound']:.3f})"
        )
    ceiling = _eg_ceiling(table)
    if ceiling is None:
        lines.append("- ExponentiatedGradient: no epsilon kept a validation DP gap <= 0.03")
    else:
        lines.append(
            f"- ExponentiatedGradient (DemographicParity, epsilon {ceiling['gamma']:g}, chosen "
            f"with a validation DP gap <= 0.03): accuracy {ceiling['test_accuracy']:.3f}, "
            f"measured DP gap {ceiling['test_dp_gap']:.3f}, no certificate"
        )
    columns = [
        "method",
        "units",
        "gamma",
        "sharpness",
        "inference",
        "val_accuracy",
        "val_bound",
        "test_accuracy",
        "test_dp_gap",
        "test_plugin_tv",
        "test_bound",
    ]
    lines += ["", "Every row measured:", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for _, row in table[columns].iterrows():
        lines.append("| " + " | ".join(_cell(row[name], name) for name in columns) + " |")
    return "\n".join(lines)


def _cell(value: Any, column: str) -> str:
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return f"{value:g}" if column in ("units", "gamma", "sharpness") else f"{value:.3f}"
    return str(value)


def plot(path: str | Path, figure: str | Path, dataset: str) -> None:
    """Test accuracy against the certified bound, with the references marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.read_csv(path)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    sqnn = table[table["method"].isin(SQNN_METHODS)]
    for mode, marker in (("sample", "o"), ("threshold", "s")):
        rows = sqnn[sqnn["inference"] == mode]
        points = ax.scatter(
            rows["test_bound"],
            rows["test_accuracy"],
            c=rows["units"],
            marker=marker,
            cmap="viridis",
            label=f"SQNN, {'sampled' if mode == 'sample' else 'thresholded'} code",
        )
    fig.colorbar(points, ax=ax, label="code units")
    constant = table[table["method"] == "constant"].iloc[0]
    ax.scatter([0], [constant["test_accuracy"]], marker="x", c="k", label="constant")
    unregularised = sqnn[sqnn["gamma"] == 0.0]
    if not unregularised.empty:
        ax.scatter(
            unregularised["test_dp_gap"],
            unregularised["test_accuracy"],
            marker="^",
            c="r",
            label="gamma 0: measured DP gap (uncertified)",
        )
    ceiling = _eg_ceiling(table)
    if ceiling is not None:
        ax.axhline(
            ceiling["test_accuracy"],
            ls="--",
            c="grey",
            label="ExpGrad, val DP <= 0.03 (uncertified)",
        )
    for target in TARGETS.get(dataset, ()):
        ax.axvline(target, ls=":", c="k")
    ax.set_xlabel("certified DP bound of any classifier of the code (95 %)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{dataset}: accuracy against the certified bound")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(figure, dpi=120)
    plt.close(fig)


def section(results: Path, figures: Path) -> list[str]:
    """Docs/RESULTS.md's section: each dataset's report and figure from its certified CSV."""
    lines = [
        "## Certified invariance: `keras-sqnn certify --dataset D`",
        "",
        "Decisions served from one sampled code, or from the thresholded code, of an SQNN",
        "whose setting (code width, gamma, sharpness) is chosen on a validation split carved",
        "from the training rows; the bound is certified on the test split (95 %) for any",
        "classifier of the code (docs/CERTIFICATE.md).",
        "",
    ]
    for dataset in ("adult", "compas"):
        path = results / f"certified_{dataset}.csv"
        lines += [f"### {dataset}", ""]
        if not path.exists():
            lines += ["Not run yet.", ""]
            continue
        lines += [report(path, dataset), ""]
        plot(path, figures / f"certified_{dataset}.png", dataset)
        lines += [
            f"![{dataset}: accuracy against the certified bound](figures/certified_{dataset}.png)",
            "",
        ]
    return lines
