"""Read the tuned comparison CSVs, check the paper's trade-off target, draw Figures 2 and 4.

``keras-sqnn tune --method M`` appends one row per (method, outer fold) to
``tuned_<dataset>.csv`` (the columns :data:`TUNED_COLUMNS`), plus a ``constant`` reference
row per fold. This module summarises those rows over folds and checks the paper's claim:
on each dataset and each plane (AUC / 1-GPA, AUC / 1-AUDC), an SQNN has the best L1
distance to (1, 1) or is within 0.01 of it. A CSV may be partial (a search resumes over
several sittings); what is missing is reported and no verdict is claimed for it.

Example:
>>> import pandas as pd
>>> rows = [{"dataset": "d", "method": m, "fold": f, "tradeoff_gpa": t, "tradeoff_audc": t}
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

import numpy as np
import pandas as pd

TUNED_COLUMNS = (
    "dataset",
    "method",
    "fold",
    "selection",
    "budget",
    "params",
    "trials",
    "inner_score",
    "inner_auc",
    "auc",
    "accuracy",
    "gpa",
    "audc",
    "adrg",
    "probe_auc_s",
    "probe_auc_y",
    "tradeoff_gpa",
    "tradeoff_audc",
    "train_seconds",
    "search_seconds",
)
"""The columns of a ``tuned_<dataset>.csv``, in order."""

TUNED_METHODS = (
    "binary_bernoulli",
    "binary_mi",
    "vanilla",
    "adv_cls",
    "vfae",
    "fairlearn_eg",
    "fairlearn_eg_eo",
    "fairlearn_adv",
)
"""The methods a complete dataset has, each on every outer fold."""

SQNN_METHODS = ("binary_bernoulli", "binary_mi", "binary_bernoulli_conditional")
"""The methods that count as an SQNN for the target; the conditional one is optional."""

REFERENCE = "constant"
"""The constant predictor's method name: a reference point, never a candidate for best."""

PLANES = {"gpa": "AUC / 1-GPA", "audc": "AUC / 1-AUDC"}
"""Fairness column of each plane and its name; the distance column is ``tradeoff_<key>``."""

DATASETS = ("compas", "adult", "banks")

METRICS = (
    "trials",
    "inner_score",
    "inner_auc",
    "auc",
    "accuracy",
    "gpa",
    "audc",
    "adrg",
    "probe_auc_s",
    "probe_auc_y",
    "tradeoff_gpa",
    "tradeoff_audc",
    "train_seconds",
    "search_seconds",
)

_ORDER = (*SQNN_METHODS, *TUNED_METHODS[2:], REFERENCE)


def _method_order(methods: Iterable[str]) -> list[str]:
    """Known methods in :data:`_ORDER`, then any others alphabetically."""
    present = set(methods)
    return [m for m in _ORDER if m in present] + sorted(present - set(_ORDER))


def tuned_csvs(sources: str | Path | Iterable[str | Path]) -> list[Path]:
    """The tuned CSVs named by ``sources``: a directory's ``tuned_*.csv`` or explicit files.

    A directory yields those of its ``tuned_compas.csv``, ``tuned_adult.csv`` and
    ``tuned_banks.csv`` that exist, in that order (other files are ignored; name them to
    read them). Raises ``FileNotFoundError`` when a named file is missing or a directory
    holds none.
    """
    items = [sources] if isinstance(sources, str | Path) else list(sources)
    paths: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = [item / f"tuned_{name}.csv" for name in DATASETS]
            found = [path for path in found if path.is_file()]
            if not found:
                raise FileNotFoundError(
                    f"Expected tuned_<dataset>.csv files ({', '.join(DATASETS)}) in {item}; "
                    "found none."
                )
            paths += found
        elif item.is_file():
            paths.append(item)
        else:
            raise FileNotFoundError(f"Expected a tuned CSV or a directory. Received: {item}")
    return paths


def read_tuned(sources: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Read and check the tuned CSVs; one row per (dataset, method, fold).

    Args:
        sources: a directory (its ``tuned_*.csv``), a CSV, or several of either.

    Returns:
        The rows of every CSV, metrics as floats. Where a (dataset, method, fold) appears
        more than once (a fold re-run after a resume) the last row is kept; how many rows
        were superseded is in ``frame.attrs["superseded"]``.

    Raises:
        ValueError: a CSV lacks some of :data:`TUNED_COLUMNS` (the message names the file
            and the columns).
    """
    frames = []
    for path in tuned_csvs(sources):
        frame = pd.read_csv(path)
        missing = [column for column in TUNED_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(
                f"Expected the columns of a tuned CSV in {path}; missing: {missing}. "
                f"Received: columns={list(frame.columns)}"
            )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table[list(METRICS)] = table[list(METRICS)].apply(pd.to_numeric, errors="coerce")
    table["fold"] = table["fold"].astype(int)
    keys = ["dataset", "method", "fold"]
    superseded = int(table.duplicated(keys, keep="last").sum())
    table = table.drop_duplicates(keys, keep="last").reset_index(drop=True)
    table.attrs["superseded"] = superseded
    return table


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


def coverage(table: pd.DataFrame, *, folds: int = 3) -> pd.DataFrame:
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


def target_cells(table: pd.DataFrame, *, folds: int = 3, tolerance: float = 0.01) -> list[Cell]:
    """The six cells of the target: each dataset of ``table`` in each plane of :data:`PLANES`.

    A method's distance is the mean over its folds of ``tradeoff_<plane>``. The best method
    is the one with the smallest distance among every method but ``constant``. The cell is
    ``"met"`` when the best SQNN's distance minus the best distance is at most
    ``tolerance`` (plus 1e-9 for rounding), ``"not met"`` otherwise, and ``"incomplete"``
    (whatever the numbers) when a method of :data:`TUNED_METHODS` lacks one of the
    ``folds`` outer folds.

    Args:
        table: rows of :func:`read_tuned` (only ``dataset``, ``method``, ``fold`` and the
            ``tradeoff_*`` columns are read).
        folds: outer folds a complete method has (numbered from 0).
        tolerance: how far behind the best an SQNN may be and still meet the target.

    Returns:
        One :class:`Cell` per (dataset, plane), datasets in the table's order.
    """
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
    """Everything :func:`report_markdown` renders, for one or more datasets."""

    table: pd.DataFrame
    summary: pd.DataFrame
    coverage: pd.DataFrame
    cells: list[Cell]
    constant: pd.DataFrame


def tuned_report(
    sources: str | Path | Iterable[str | Path] | pd.DataFrame,
    *,
    folds: int = 3,
    tolerance: float = 0.01,
) -> TunedReport:
    """Read the tuned CSVs (or take their rows) and compute the summary, cells and checks."""
    table = sources if isinstance(sources, pd.DataFrame) else read_tuned(sources)
    return TunedReport(
        table=table,
        summary=summarize_tuned(table),
        coverage=coverage(table, folds=folds),
        cells=target_cells(table, folds=folds, tolerance=tolerance),
        constant=constant_comparison(table),
    )


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
    lines = summary_markdown(report, dataset)
    superseded = report.table.attrs.get("superseded", 0)
    if superseded:
        lines += ["", f"{superseded} earlier rows of re-run folds were superseded."]
    return [*lines, "", *cells_markdown(report, dataset), "", *constant_markdown(report, dataset)]


def tuned_figures(sources: str | Path | Iterable[str | Path], out_dir: str | Path) -> list[Path]:
    """Draw Figures 2 and 4 for each dataset of the tuned CSVs.

    Args:
        sources: a directory holding ``tuned_<dataset>.csv`` files, or CSV paths.
        out_dir: where to write ``tuned_<dataset>_fig2.png`` (AUC against 1 - GPA and
            1 - AUDC, mean ± std over folds, the constant predictor as a reference, the
            equal-tradeoff line through the best method) and ``tuned_<dataset>_fig4.png``
            (random-forest probe AUCs for S and Y and ADRG of each representation).

    Returns:
        The paths written, two per dataset.
    """
    from keras_sqnn.plots import probe_figure, tradeoff_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize_tuned(read_tuned(sources))
    paths = []
    for dataset in dict.fromkeys(summary.index.get_level_values("dataset")):
        part = summary.loc[dataset].reset_index()
        folds = int(part["folds"].max())
        paths.append(
            tradeoff_figure(
                part,
                out / f"tuned_{dataset}_fig2.png",
                pairs=[("gpa", "1 - GPA", "unfairness"), ("audc", "1 - AUDC", "unfairness")],
                title=f"{dataset}: tuned methods, mean ± std over up to {folds} outer folds",
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
