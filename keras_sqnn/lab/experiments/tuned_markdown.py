"""Markdown of the tuned reports: the tuned section and the budget check of docs/RESULTS.md.

:func:`tuned_section` renders Figures 2 and 4 with every method tuned, from
``docs/results/tuned_<dataset>.csv`` (written by ``keras-sqnn tune``); :func:`report_markdown`
renders one dataset of it (a :class:`keras_sqnn.lab.experiments.tuned_report.TunedReport`).
:func:`budget_check_section` sets COMPAS at the cpu budget beside the same searches continued
to more trials, from ``docs/results/compas_trials28/tuned_compas.csv``.
``scripts/make_results.py`` assembles the page.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from keras_sqnn.lab.experiments.tuned_report import (
    PLANES,
    TunedReport,
    read_tuned,
    tuned_figures,
)
from keras_sqnn.lab.experiments.tuned_report import tuned_report as make_tuned_report
from keras_sqnn.lab.experiments.tuned_schema import SELECTION_RULES, budget_command

__all__ = [
    "BUDGET_CHECK",
    "budget_check_section",
    "cells_markdown",
    "constant_markdown",
    "markdown_table",
    "report_markdown",
    "summary_markdown",
    "tune_command",
    "tuned_section",
]


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a markdown table, its cells as ``str`` writes them."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


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


def tune_command(dataset: str, table: pd.DataFrame, selection: str) -> str:
    """The ``keras-sqnn tune`` command that made an experiment's rows of ``dataset``."""
    budget = table.attrs["budgets"].get(dataset)
    options = "" if budget is None else " " + budget_command(budget)
    if selection != SELECTION_RULES[0]:
        options += f" --selection {selection}"
    return f"keras-sqnn tune --dataset {dataset}{options}"


def tuned_section(
    results_dir: Path,
    figures_dir: Path,
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
) -> list[str]:
    """Figures 2 and 4 with every method tuned, from ``results_dir/tuned_<dataset>.csv``.

    Per dataset: the mean ± std table, the target's two cells with their numbers, the
    constant-predictor check, the command that made the CSV and the two figures (written to
    ``figures_dir/tuned_<dataset>_fig2.png`` and ``_fig4.png``). One experiment: the rows
    of rule ``selection`` and budget ``budget`` (None: the only budget of each CSV's rows of
    the rule; a CSV with several is an error naming them), with the constant rows.
    """
    lines = [
        "## Figure 2 and Figure 4 with every method tuned: `keras-sqnn tune --dataset D`",
        "",
        "Every method tuned by the same nested search (the same outer and inner folds and",
        "objective), evaluated on the outer folds; mean ± std over the folds present. The",
        "`selection` column names the rule that chose each fold's point (with how many folds",
        "it chose). L1 is the distance to (1, 1) in the plane: (1 - AUC) + GPA, or",
        "(1 - AUC) + AUDC. The constant predictor (AUC 0.5, GPA and AUDC 0) is a reference.",
        "ADRG and the probe AUCs come from random forests on each representation; n/a where",
        "a method has none (fairlearn's reductions).",
        "",
        "Selection: the paper's objective, AUC + (1 - GPA) + (1 - AUDC) on the inner folds,",
        "gives a constant score 2.5, more than most trained models, so the default rule",
        "(`auc_floor`) takes the best objective among the trials whose mean inner AUC is within",
        "0.05 of the tuned vanilla network's best on the same outer fold;",
        "`auc_floor:none_eligible` marks a fold where no trial was, and the highest-AUC trial",
        "was taken. `--selection objective` is the paper's rule. `--budget cpu`: 7 trials of",
        "10 epochs per method and outer fold (SQNNs at Adam 1e-3), Adult and Banks tuned on a",
        "stratified 4,000-row subsample of each inner training fold; refits and tests on the",
        "full outer folds, probes with 1,000 trees. `--budget paper`: 200 trials, 100 epochs.",
        "",
        "Target (the paper's claim): on each dataset and plane, an SQNN (binary_bernoulli,",
        "binary_mi, or binary_bernoulli_conditional, named where it is the one) has the best",
        "L1 distance or is within 0.01 of it. Each dataset's section states the verdict of",
        "each plane, computed from its CSV: met, not met, or incomplete where a tuned method",
        "lacks an outer fold (no verdict is claimed then).",
        "",
    ]
    for dataset in ("compas", "adult", "banks"):
        path = results_dir / f"tuned_{dataset}.csv"
        lines += [f"### {dataset} (tuned)", ""]
        if not path.exists():
            lines += ["Not run yet.", ""]
            continue
        table = read_tuned(path, selection=selection, budget=budget)
        report = make_tuned_report(table, selection=selection, budget=budget)
        lines += [
            f"From `{path.as_posix()}`, made by `{tune_command(dataset, table, selection)}`.",
            "",
            *report_markdown(report, dataset),
            "",
        ]
        for figure in tuned_figures([path], figures_dir, selection=selection, budget=budget):
            number = figure.stem.rsplit("_", 1)[-1].removeprefix("fig")
            lines += [f"![{dataset} figure {number}]({figures_dir.name}/{figure.name})", ""]
    return lines


BUDGET_CHECK = {
    "vanilla": "vanilla",
    "binary_bernoulli": "BinaryBernoulli",
    "binary_mi": "BinaryMI",
    "vfae": "VFAE",
}
"""The methods of the COMPAS budget check, with their labels."""


def budget_check_section(
    results: Path, larger: Path, *, selection: str = SELECTION_RULES[0]
) -> list[str]:
    """COMPAS at the cpu budget against the same searches continued to more trials.

    Reads ``results/tuned_compas.csv`` (budget ``cpu``) and ``larger/tuned_compas.csv``
    (its one budget), the methods of :data:`BUDGET_CHECK`.
    """
    path = larger / "tuned_compas.csv"
    lines = ["### Is it the search budget? COMPAS with more trials", ""]
    if not path.exists():
        return [*lines, "Not run yet.", ""]
    cpu = read_tuned(results / "tuned_compas.csv", selection=selection, budget="cpu")
    more = read_tuned(path, selection=selection)
    name = more.attrs["budgets"]["compas"]
    tables = {"cpu": cpu, name: more}
    trials = {b: int(t.loc[t["method"] != "constant", "trials"].max()) for b, t in tables.items()}
    lines += [
        f"`keras-sqnn tune --dataset compas {budget_command(name)} --method "
        f"{' '.join(BUDGET_CHECK)} --out {larger.as_posix()}`: the searches of the cpu",
        f"budget ({trials['cpu']} trials each) continued to {trials[name]} trials (their "
        "folders copied from",
        f"`results/searches/compas/cpu` to `{name}` first; KerasTuner resumes a search to a",
        "larger `max_trials`), then selected, refitted and tested as above. Mean over the",
        "outer folds; L1 is the distance to (1, 1) in each plane.",
        "",
        "| method | budget | folds | AUC | GPA | AUDC | L1, AUC/1-GPA | L1, AUC/1-AUDC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    columns = ["auc", "gpa", "audc", "tradeoff_gpa", "tradeoff_audc"]
    means = {}
    for budget, table in tables.items():
        table = table[table["method"].isin(list(BUDGET_CHECK))]
        means[budget] = table.groupby("method")[columns].mean()
        folds = table.groupby("method")["fold"].nunique()
        for method, label in BUDGET_CHECK.items():
            if method not in folds.index:
                lines.append(f"| {label} | {budget} | 0 | not run | | | | |")
                continue
            row = means[budget].loc[method]
            cells = " | ".join(f"{row[c]:.3f}" for c in columns)
            lines.append(f"| {label} | {budget} | {folds[method]} | {cells} |")
    lines.append("")
    for column, plane in (("tradeoff_gpa", "AUC/1-GPA"), ("tradeoff_audc", "AUC/1-AUDC")):
        parts = []
        for budget, frame in means.items():
            sqnns = frame.loc[frame.index.isin(["binary_bernoulli", "binary_mi"]), column]
            if sqnns.empty or "vfae" not in frame.index:
                continue
            best = sqnns.idxmin()
            gap = sqnns.min() - frame.loc["vfae", column]
            parts.append(
                f"{budget}: {BUDGET_CHECK[best]} {sqnns.min():.3f} against VFAE "
                f"{frame.loc['vfae', column]:.3f} (SQNN minus VFAE {gap:+.3f})"
            )
        lines.append(f"- {plane}: " + ("; ".join(parts) or "not run yet") + ".")
    return [*lines, ""]
