"""Figures of the paper: trade-offs (Figure 2), gamma sweeps (3), representation probes (4).

Needs matplotlib (``pip install keras_sqnn[plots]``); imported lazily.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Plots need matplotlib: pip install 'keras_sqnn[plots]'") from error
    return plt


def _save(plt: Any, figure: Any, path: str | Path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def tradeoff_figure(
    summary: pd.DataFrame,
    path: str | Path,
    *,
    pairs: list[tuple[str, str, str]],
    title: str,
    reference: str | None = None,
    std_suffix: str | None = None,
) -> Path:
    """Scatter of AUC against fairness columns, with the equal-tradeoff line through the best.

    Args:
        summary: one row per model with ``method``, ``auc`` and the columns in ``pairs``.
        path: PNG to write.
        pairs: ``(column, x label, kind)``; ``kind`` is ``"unfairness"`` (plotted as
            ``1 - value``) or ``"score"`` (plotted as is).
        title: figure title.
        reference: a method drawn as a reference point (black cross, named
            ``"<method> (reference)"``) and left out of the best point, e.g. the constant
            predictor.
        std_suffix: when given, ``<column><std_suffix>`` (``auc`` and each column of
            ``pairs``) are the standard deviations drawn as error bars; NaN draws none.

    Each method has its own colour and marker, named once in a legend below the panels
    (methods often land on nearly the same point, where text labels would overprint).
    The best model is the one closest to (1, 1) in L1 distance; every point on the dotted
    line has the same distance (the paper's equal-tradeoff line).
    """
    plt = _pyplot()
    methods = list(dict.fromkeys(summary["method"]))
    colours = plt.get_cmap("tab10")
    others = [method for method in methods if method != reference]
    styles = {
        method: {"color": colours(i % 10), "marker": MARKERS[i % len(MARKERS)]}
        for i, method in enumerate(others)
    }
    names = {method: method for method in others}
    if reference in methods:
        styles[reference] = {"color": "black", "marker": "x"}
        names[reference] = f"{reference} (reference)"
    candidates = (summary["method"] != reference).to_numpy()
    figure, axes = plt.subplots(
        1,
        len(pairs),
        figsize=(5 * len(pairs), 4.4 + 0.25 * math.ceil(len(methods) / 3)),
        squeeze=False,
        layout="constrained",
    )
    handles = {}
    for axis, (column, label, kind) in zip(axes[0], pairs, strict=True):
        x = summary[column].to_numpy(float)
        if kind == "unfairness":
            x = 1.0 - x
        y = summary["auc"].to_numpy(float)
        if std_suffix is not None:
            xerr = summary[f"{column}{std_suffix}"].to_numpy(float)
            yerr = summary[f"auc{std_suffix}"].to_numpy(float)
        for method in methods:
            rows = (summary["method"] == method).to_numpy()
            if std_suffix is not None:
                axis.errorbar(
                    x[rows],
                    y[rows],
                    xerr=np.nan_to_num(xerr[rows]),
                    yerr=np.nan_to_num(yerr[rows]),
                    fmt="none",
                    ecolor=styles[method]["color"],
                    elinewidth=0.8,
                    alpha=0.6,
                )
            handles[names[method]] = axis.scatter(
                x[rows], y[rows], s=40, alpha=0.85, label=names[method], **styles[method]
            )
        finite = np.isfinite(x) & np.isfinite(y) & candidates
        if finite.any():
            distance = (1 - x[finite]) + (1 - y[finite])
            best = float(distance.min())
            line = np.linspace(max(0.0, 1 - best), 1.0, 50)
            (tradeoff,) = axis.plot(
                line, 2 - best - line, ":", color="gray", label=f"equal tradeoff ({best:.3f})"
            )
            axis.legend(handles=[tradeoff], loc="lower left", fontsize=8)
        axis.set_xlabel(label)
        axis.set_ylabel("AUC")
        axis.grid(alpha=0.3)
    figure.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncol=min(len(methods), 3),
        fontsize=8,
    )
    figure.suptitle(title)
    return _save(plt, figure, path)


PROBE_BARS = (
    ("probe_auc_s", "probe AUC for S"),
    ("probe_auc_y", "probe AUC for Y"),
    ("adrg", "ADRG"),
)


def probe_figure(
    summary: pd.DataFrame, path: str | Path, *, title: str, std_suffix: str | None = "_std"
) -> Path:
    """Figure 4: a random-forest probe of each representation, as grouped bars per method.

    Args:
        summary: one row per method with ``method`` and the columns of :data:`PROBE_BARS`
            (``probe_auc_s``, ``probe_auc_y``, ``adrg``); NaN where a method has no
            representation (e.g. fairlearn's reductions), which is then marked "n/a".
        path: PNG to write.
        title: figure title.
        std_suffix: ``<column><std_suffix>`` columns, when present, are drawn as error bars.

    A probe AUC for S near 0.5 (the dashed line) means the representation hides S; the
    probe AUC for Y should stay high; ADRG is |probe accuracy for S - majority-group ratio|,
    how far the probe beats always guessing the largest group (0: S is not recoverable
    beyond chance; see :func:`keras_sqnn.metrics.representation_probe`).
    """
    plt = _pyplot()
    methods = list(summary["method"])
    width = 0.8 / len(PROBE_BARS)
    positions = np.arange(len(methods), dtype=float)
    figure, axis = plt.subplots(
        figsize=(max(6.0, 1.0 * len(methods) + 2), 4.8), layout="constrained"
    )
    handles = []
    for i, (column, label) in enumerate(PROBE_BARS):
        values = summary[column].to_numpy(float)
        error = None
        if std_suffix is not None and f"{column}{std_suffix}" in summary:
            error = np.nan_to_num(summary[f"{column}{std_suffix}"].to_numpy(float))
        offset = (i - (len(PROBE_BARS) - 1) / 2) * width
        handles.append(
            axis.bar(
                positions + offset,
                np.nan_to_num(values),
                width,
                yerr=error,
                capsize=2,
                label=label,
                color=plt.get_cmap("tab10")(i),
            )
        )
    absent = summary[[column for column, _ in PROBE_BARS]].isna().all(axis=1).to_numpy()
    for position in positions[absent]:
        axis.text(position, 0.02, "n/a", ha="center", va="bottom", fontsize=9, color="gray")
    (chance,) = axis.plot(
        [-0.5, len(methods) - 0.5], [0.5, 0.5], "--", color="gray", linewidth=1, label="AUC 0.5"
    )
    axis.set_xlim(-0.5, len(methods) - 0.5)
    axis.set_ylim(0.0, 1.05)
    axis.set_xticks(positions, methods, rotation=30, ha="right")
    axis.set_ylabel("probe AUC / ADRG")
    axis.grid(alpha=0.3, axis="y")
    note = " (n/a: no representation to probe)" if absent.any() else ""
    axis.set_title(f"random forest on each representation{note}", fontsize=9)
    figure.legend(
        [*handles, chance],
        [*(label for _, label in PROBE_BARS), "AUC 0.5"],
        loc="outside lower center",
        ncol=len(PROBE_BARS) + 1,
        fontsize=8,
    )
    figure.suptitle(title)
    return _save(plt, figure, path)


def sweep_figure(table: pd.DataFrame, path: str | Path, *, title: str) -> Path:
    """Figure 3: 1 - GPA against AUC for each method, points coloured by their parameter."""
    plt = _pyplot()
    methods = list(dict.fromkeys(table["method"]))
    figure, axes = plt.subplots(1, len(methods), figsize=(4.5 * len(methods), 4), squeeze=False)
    for axis, method in zip(axes[0], methods, strict=True):
        rows = table[table["method"] == method]
        params = rows["param"].to_numpy(float)
        colours = np.log10(np.maximum(params, 1e-4))
        points = axis.scatter(1 - rows["gpa"], rows["auc"], c=colours, cmap="viridis", s=35)
        figure.colorbar(points, ax=axis, label=f"log10 {rows['param_name'].iloc[0]}")
        axis.set_title(method)
        axis.set_xlabel("1 - GPA")
        axis.set_ylabel("AUC")
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return _save(plt, figure, path)
