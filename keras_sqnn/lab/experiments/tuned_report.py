"""Read the tuned comparison CSVs, check the paper's trade-off target, draw Figures 2 and 4.

``keras-sqnn tune --method M`` appends one row per (method, outer fold, selection rule,
budget, seed) to ``tuned_<dataset>.csv`` (the columns
:data:`keras_sqnn.lab.experiments.tuned_schema.CSV_COLUMNS`), plus a ``constant`` reference row
per fold. This module reads one experiment at a time (:func:`one_experiment`: one selection
rule, one budget, one seed, with the constant rows), summarises its rows over folds and
checks the paper's claim: on each dataset and each plane (AUC / 1-GPA, AUC / 1-AUDC), an
SQNN has the best L1 distance to (1, 1) or is within 0.01 of it. A CSV may be partial (a
search resumes over several sittings); what is missing is reported and no verdict is
claimed for it. :mod:`keras_sqnn.lab.experiments.tuned_markdown` renders the report.

Example:
>>> import pandas as pd
>>> rows = [{"dataset": "d", "method": m, "fold": f, "selection": "auc_floor", "budget": "cpu",
...          "seed": 0, "tradeoff_gpa": t, "tradeoff_audc": t}
...         for f in range(3) for m, t in zip(TUNED_METHODS, [0.40, 0.45, *[0.41] * 6])]
>>> cell = target_cells(pd.DataFrame(rows))[0]
>>> cell.status, cell.best_method, cell.best_sqnn
('met', 'binary_bernoulli', 'binary_bernoulli')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from keras_sqnn.lab.experiments.tuned_schema import (
    METRICS,
    N_OUTER,
    REFERENCE,
    SELECTION_RULES,
    SQNN_METHODS,
    TUNED_METHODS,
    one_experiment,
    read_tuned,
)

__all__ = [
    "PLANES",
    "Cell",
    "TunedReport",
    "constant_comparison",
    "coverage",
    "one_experiment",
    "read_tuned",
    "summarize_tuned",
    "target_cells",
    "tuned_figures",
    "tuned_report",
]

PLANES = {"gpa": "AUC / 1-GPA", "audc": "AUC / 1-AUDC"}
"""Fairness column of each plane and its name; the distance column is ``tradeoff_<key>``."""

_ORDER = (*SQNN_METHODS, *TUNED_METHODS[2:], REFERENCE)


def _method_order(methods: Iterable[str]) -> list[str]:
    """Known methods in :data:`_ORDER`, then any others alphabetically."""
    present = set(methods)
    return [m for m in _ORDER if m in present] + sorted(present - set(_ORDER))


def _selection_text(values: pd.Series) -> str:
    counts = values.fillna("?").astype(str).value_counts(sort=False)
    return ", ".join(f"{rule} ({n})" for rule, n in counts.items())


def summarize_tuned(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std over folds of each metric, per (dataset, method).

    Returns:
        Indexed by (dataset, method), known methods in a fixed order with ``constant``
        last. Columns: ``folds`` (how many folds are present), ``selection`` (each rule
        with its count, e.g. ``"auc_floor (2), objective (1)"``), and for each metric in
        :data:`METRICS` its mean (named as the metric) and ``<metric>_std``.
    """
    rows = []
    for dataset in dict.fromkeys(table["dataset"]):
        part = table[table["dataset"] == dataset]
        for method in _method_order(part["method"]):
            group = part[part["method"] == method]
            row: dict[str, object] = {
                "dataset": dataset,
                "method": method,
                "folds": int(group["fold"].nunique()),
                "selection": _selection_text(group["selection"]) if "selection" in group else "",
            }
            for metric in METRICS:
                if metric in group:
                    values = group[metric].astype(float)
                    row[metric] = float(values.mean())
                    row[f"{metric}_std"] = float(values.std(ddof=1))
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def coverage(table: pd.DataFrame, *, folds: int = N_OUTER) -> pd.DataFrame:
    """Which folds each expected method has, per dataset.

    Returns:
        One row per (dataset, method) for :data:`TUNED_METHODS`, ``constant``, and any
        other method present, with ``folds_present`` (sorted tuple), ``missing_folds``
        (those of ``range(folds)`` absent) and ``complete``.
    """
    rows = []
    for dataset in dict.fromkeys(table["dataset"]):
        part = table[table["dataset"] == dataset]
        for method in _method_order([*TUNED_METHODS, REFERENCE, *part["method"]]):
            present = tuple(sorted(int(f) for f in part.loc[part["method"] == method, "fold"]))
            missing = tuple(f for f in range(folds) if f not in present)
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "folds_present": present,
                    "missing_folds": missing,
                    "complete": not missing,
                }
            )
    return pd.DataFrame(rows)


@dataclasses.dataclass(frozen=True)
class Cell:
    """The target on one (dataset, plane): is an SQNN best or within ``tolerance`` of it?

    Attributes:
        dataset: the dataset.
        plane: ``"gpa"`` or ``"audc"`` (a key of :data:`PLANES`).
        status: ``"met"``, ``"not met"``, or ``"incomplete"`` (some method of
            :data:`TUNED_METHODS` lacks a fold; the numbers are then provisional).
        best_method: the method with the smallest mean L1 distance to (1, 1).
        best_distance: its distance.
        best_sqnn: the SQNN (of :data:`SQNN_METHODS`) with the smallest distance; None
            when no SQNN is present.
        best_sqnn_distance: its distance (NaN when none).
        gap: ``best_sqnn_distance - best_distance`` (0 when an SQNN is best).
        unconditional_sqnn: the better of binary_bernoulli and binary_mi (None if neither);
            differs from ``best_sqnn`` when the conditional SQNN is the better one.
        unconditional_gap: its distance minus ``best_distance`` (the conditional SQNN
            still counts as a competitor for the best).
        tolerance: how far behind the best an SQNN may be and still meet the target.
        missing: ``"method: folds ..."`` for each method of :data:`TUNED_METHODS` lacking
            a fold.
    """

    dataset: str
    plane: str
    status: str
    best_method: str | None
    best_distance: float
    best_sqnn: str | None
    best_sqnn_distance: float
    gap: float
    unconditional_sqnn: str | None
    unconditional_gap: float
    tolerance: float
    missing: tuple[str, ...]


def _missing_text(row: pd.Series, folds: int) -> str:
    if not row["folds_present"]:
        return f"{row['method']}: no folds"
    return f"{row['method']}: fold {', '.join(map(str, row['missing_folds']))} of 0-{folds - 1}"


def _closest(means: pd.Series, names: Iterable[str]) -> tuple[str | None, float]:
    present = means[means.index.isin(list(names))]
    if present.empty:
        return None, math.nan
    return str(present.idxmin()), float(present.min())


def target_cells(
    table: pd.DataFrame,
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
    seed: int | None = None,
    folds: int = N_OUTER,
    tolerance: float = 0.01,
) -> list[Cell]:
    """The six cells of the target: each dataset of ``table`` in each plane of :data:`PLANES`.

    A method's distance is the mean over its folds of ``tradeoff_<plane>``. The best method
    is the one with the smallest distance among every method but ``constant``. The cell is
    ``"met"`` when the best SQNN's distance minus the best distance is at most
    ``tolerance`` (plus 1e-9 for rounding), ``"not met"`` otherwise, and ``"incomplete"``
    (whatever the numbers) when a method of :data:`TUNED_METHODS` lacks one of the
    ``folds`` outer folds.

    Args:
        table: rows of tuned CSVs (only the columns of
            :data:`keras_sqnn.lab.experiments.tuned_schema.ROW_KEY` and ``tradeoff_*`` are
            read); the cells are those of one experiment, :func:`one_experiment`.
        selection, budget, seed: the experiment (see :func:`one_experiment`).
        folds: outer folds a complete method has (numbered from 0).
        tolerance: how far behind the best an SQNN may be and still meet the target.

    Returns:
        One :class:`Cell` per (dataset, plane), datasets in the table's order.
    """
    table = one_experiment(table, selection=selection, budget=budget, seed=seed)
    cover = coverage(table, folds=folds)
    cells = []
    for dataset in dict.fromkeys(table["dataset"]):
        part = table[(table["dataset"] == dataset) & (table["method"] != REFERENCE)]
        lacking = cover[
            (cover["dataset"] == dataset) & cover["method"].isin(TUNED_METHODS) & ~cover["complete"]
        ]
        missing = tuple(_missing_text(row, folds) for _, row in lacking.iterrows())
        for plane in PLANES:
            means = part.groupby("method", sort=False)[f"tradeoff_{plane}"].mean().dropna()
            means = means.reindex(_method_order(means.index))
            best_method = str(means.idxmin()) if len(means) else None
            best = float(means.min()) if len(means) else math.nan

            sqnn, sqnn_distance = _closest(means, SQNN_METHODS)
            plain, plain_distance = _closest(means, SQNN_METHODS[:2])
            gap = sqnn_distance - best
            if missing:
                status = "incomplete"
            else:
                status = "met" if gap <= tolerance + 1e-9 else "not met"
            cells.append(
                Cell(
                    dataset=str(dataset),
                    plane=plane,
                    status=status,
                    best_method=best_method,
                    best_distance=best,
                    best_sqnn=sqnn,
                    best_sqnn_distance=sqnn_distance,
                    gap=gap,
                    unconditional_sqnn=plain,
                    unconditional_gap=plain_distance - best,
                    tolerance=tolerance,
                    missing=missing,
                )
            )
    return cells


def constant_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Each method's mean distance in each plane next to the constant predictor's.

    Returns:
        One row per (dataset, method, plane) with ``distance``, ``constant_distance``
        (NaN when the dataset has no constant rows) and ``worse_than_constant`` (the
        method's mean distance is strictly larger than the constant's).
    """
    rows = []
    for dataset in dict.fromkeys(table["dataset"]):
        part = table[table["dataset"] == dataset]
        for plane in PLANES:
            means = part.groupby("method", sort=False)[f"tradeoff_{plane}"].mean()
            constant = float(means.get(REFERENCE, math.nan))
            for method in _method_order(means.index):
                if method == REFERENCE:
                    continue
                distance = float(means[method])
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "plane": plane,
                        "distance": distance,
                        "constant_distance": constant,
                        "worse_than_constant": bool(distance > constant),
                    }
                )
    columns = ["dataset", "method", "plane", "distance", "constant_distance"]
    return pd.DataFrame(rows, columns=[*columns, "worse_than_constant"])


@dataclasses.dataclass(frozen=True)
class TunedReport:
    """Everything :func:`keras_sqnn.lab.experiments.tuned_markdown.report_markdown` renders.

    ``table`` holds the rows of one experiment (:func:`one_experiment`), its ``attrs``
    naming the rule, each dataset's budget and seed, and the superseded rows.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    coverage: pd.DataFrame
    cells: list[Cell]
    constant: pd.DataFrame


def tuned_report(
    sources: str | Path | Iterable[str | Path] | pd.DataFrame,
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
    seed: int | None = None,
    folds: int = N_OUTER,
    tolerance: float = 0.01,
) -> TunedReport:
    """Read the tuned CSVs (or take their rows): one experiment's summary, cells and checks.

    Args:
        sources: see :func:`read_tuned`, or rows of tuned CSVs.
        selection, budget, seed: the experiment (see :func:`one_experiment`).
        folds: outer folds a complete method has.
        tolerance: see :func:`target_cells`.
    """
    if isinstance(sources, pd.DataFrame):
        table = one_experiment(sources, selection=selection, budget=budget, seed=seed)
    else:
        table = read_tuned(sources, selection=selection, budget=budget, seed=seed)
    return TunedReport(
        table=table,
        summary=summarize_tuned(table),
        coverage=coverage(table, folds=folds),
        cells=target_cells(
            table, selection=selection, budget=budget, seed=seed, folds=folds, tolerance=tolerance
        ),
        constant=constant_comparison(table),
    )


def tuned_figures(
    sources: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
    seed: int | None = None,
) -> list[Path]:
    """Draw Figures 2 and 4 of one experiment for each dataset of the tuned CSVs.

    Args:
        sources: a directory holding ``tuned_<dataset>.csv`` files, or CSV paths.
        out_dir: where to write ``tuned_<dataset>_fig2.png`` (AUC against 1 - GPA and
            1 - AUDC, mean ± std over folds, the constant predictor as a reference, the
            equal-tradeoff line through the best method) and ``tuned_<dataset>_fig4.png``
            (random-forest probe AUCs for S and Y and ADRG of each representation).

        selection, budget, seed: the experiment (see :func:`one_experiment`).

    Returns:
        The paths written, two per dataset.
    """
    from keras_sqnn.lab.plots import probe_figure, tradeoff_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = read_tuned(sources, selection=selection, budget=budget, seed=seed)
    summary = summarize_tuned(table)
    paths = []
    for dataset in dict.fromkeys(summary.index.get_level_values("dataset")):
        part = summary.loc[dataset].reset_index()
        folds = int(part["folds"].max())
        experiment = f"budget {table.attrs['budgets'][dataset]}, {selection}"
        paths.append(
            tradeoff_figure(
                part,
                out / f"tuned_{dataset}_fig2.png",
                pairs=[("gpa", "1 - GPA", "unfairness"), ("audc", "1 - AUDC", "unfairness")],
                title=f"{dataset}: tuned methods ({experiment}), mean ± std over up to "
                f"{folds} outer folds",
                reference=REFERENCE,
                std_suffix="_std",
            )
        )
        paths.append(
            probe_figure(
                part[part["method"] != REFERENCE],
                out / f"tuned_{dataset}_fig4.png",
                title=f"{dataset}: random-forest probes of the tuned representations",
            )
        )
    return paths
