"""Figures of the paper: accuracy/fairness trade-offs (Figures 2 and 4) and gamma sweeps (3).

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
    summary: pd.DataFrame, path: str | Path, *, pairs: list[tuple[str, str, str]], title: str
) -> Path:
    """Scatter of AUC against fairness columns, with the equal-tradeoff line through the best.

    Args:
        summary: one row per model with ``method``, ``auc`` and the columns in ``pairs``.
        path: PNG to write.
        pairs: ``(column, x label, kind)``; ``kind`` is ``"unfairness"`` (plotted as
            ``1 - value``) or ``"score"`` (plotted as is).
        title: figure title.

    Each method has its own colour and marker, named once in a legend below the panels
    (methods often land on nearly the same point, where text labels would overprint).
    The best model is the one closest to (1, 1) in L1 distance; every point on the dotted
    line has the same distance (the paper's equal-tradeoff line).
    """
    plt = _pyplot()
    methods = list(dict.fromkeys(summary["method"]))
    colours = plt.get_cmap("tab10")
    styles = {
        method: {"color": colours(i % 10), "marker": MARKERS[i % len(MARKERS)]}
        for i, method in enumerate(methods)
    }
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
        for method in methods:
            rows = (summary["method"] == method).to_numpy()
            handles[method] = axis.scatter(
                x[rows], y[rows], s=40, alpha=0.85, label=method, **styles[method]
            )
        finite = np.isfinite(x) & np.isfinite(y)
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
