"""Markdown of a tuned report: the per-method table, the target's cells, the constant check.

:func:`report_markdown` renders one dataset of a
:class:`keras_sqnn.lab.experiments.tuned_report.TunedReport` for docs/RESULTS.md
(``scripts/make_results.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from keras_sqnn.lab.experiments.tuned_report import PLANES, TunedReport

__all__ = ["cells_markdown", "constant_markdown", "report_markdown", "summary_markdown"]


def _number(value: float, digits: int = 3) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.{digits}f}"


def _mean_std(row: pd.Series, metric: str, digits: int = 3) -> str:
    mean, std = row.get(metric, math.nan), row.get(f"{metric}_std", math.nan)
    if not np.isfinite(mean):
        return "n/a"
    return _number(mean, digits) + ("" if not np.isfinite(std) else f" ± {std:.{digits}f}")


_TABLE = (
    ("AUC", "auc"),
    ("GPA", "gpa"),
    ("AUDC", "audc"),
    ("L1 AUC/1-GPA", "tradeoff_gpa"),
    ("L1 AUC/1-AUDC", "tradeoff_audc"),
    ("ADRG", "adrg"),
    ("probe AUC S", "probe_auc_s"),
    ("probe AUC Y", "probe_auc_y"),
)


def summary_markdown(report: TunedReport, dataset: str) -> list[str]:
    """The per-method table of one dataset: mean ± std over the folds present."""
    names = ["method", "folds", "selection", "trials", *(n for n, _ in _TABLE), "train s"]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for method, row in report.summary.loc[dataset].iterrows():
        cells = [
            str(method),
            str(row["folds"]),
            str(row["selection"]).replace("|", "\\|"),
            _number(row.get("trials", math.nan), 0),
            *(_mean_std(row, metric) for _, metric in _TABLE),
            _mean_std(row, "train_seconds", 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def cells_markdown(report: TunedReport, dataset: str) -> list[str]:
    """The dataset's two cells of the target with their numbers, and what is missing."""
    lines = [
        "| plane | best method | its L1 distance | best SQNN | its L1 distance | gap | target |",
        "|---|---|---|---|---|---|---|",
    ]
    missing: tuple[str, ...] = ()
    for cell in report.cells:
        if cell.dataset != dataset:
            continue
        missing = cell.missing
        status = cell.status
        if cell.status != "incomplete" and cell.best_sqnn != cell.unconditional_sqnn:
            plain = cell.unconditional_gap <= cell.tolerance + 1e-9
            status += (
                f" (by {cell.best_sqnn}; {cell.unconditional_sqnn} alone "
                f"{'met' if plain else 'not met'}, gap {_number(cell.unconditional_gap)})"
            )
        lines.append(
            f"| {PLANES[cell.plane]} | {cell.best_method} | {_number(cell.best_distance)} "
            f"| {cell.best_sqnn or 'none'} | {_number(cell.best_sqnn_distance)} "
            f"| {_number(cell.gap)} | **{status}** |"
        )
    if missing:
        lines += [
            "",
            "Incomplete, so no verdict: the numbers above are provisional. Missing: "
            + "; ".join(missing)
            + ".",
        ]
    return lines


def constant_markdown(report: TunedReport, dataset: str) -> list[str]:
    """One paragraph: the constant predictor's distances and the methods worse than it."""
    rows = report.constant[report.constant["dataset"] == dataset]
    constant = rows.groupby("plane", sort=False)["constant_distance"].first()
    if rows.empty or constant.isna().all():
        return ["The constant predictor's rows are missing: no comparison with it."]
    text = "Constant predictor (AUC 0.5, a reference): L1 distance " + ", ".join(
        f"{_number(constant[plane])} ({PLANES[plane]})" for plane in constant.index
    )
    worse = rows[rows["worse_than_constant"]]
    if worse.empty:
        return [text + ". No method's tuned point is worse than it."]
    named = ", ".join(
        f"{method} ("
        + "; ".join(f"{PLANES[r.plane]} {_number(r.distance)}" for r in group.itertuples())
        + ")"
        for method, group in worse.groupby("method", sort=False)
    )
    return [text + f". **Worse than the constant predictor:** {named}."]


def report_markdown(report: TunedReport, dataset: str) -> list[str]:
    """Markdown lines for one dataset: the table, the two cells and the constant check."""
    attrs = report.table.attrs
    experiment = (
        f"Selection rule `{attrs.get('selection')}`, budget "
        f"`{attrs.get('budgets', {}).get(dataset)}`, seed {attrs.get('seeds', {}).get(dataset)}."
    )
    lines = [experiment, "", *summary_markdown(report, dataset)]
    superseded = report.table.attrs.get("superseded", 0)
    if superseded:
        lines += ["", f"{superseded} earlier rows of re-run folds were superseded."]
    return [*lines, "", *cells_markdown(report, dataset), "", *constant_markdown(report, dataset)]
