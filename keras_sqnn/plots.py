"""Figures of the paper: accuracy/fairness trade-offs (Figures 2 and 4) and gamma sweeps (3).

Needs matplotlib (``pip install keras_sqnn[plots]``); imported lazily.
"""

from __future__ import annotations

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


def _save(plt: Any, figure: Any, title: str, path: str | Path) -> Path:
    figure.suptitle(title)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


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

    The best model is the one closest to (1, 1) in L1 distance; every point on the dotted
    line has the same distance (the paper's equal-tradeoff line).
    """
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 4.2), squeeze=False)
    for axis, (column, label, kind) in zip(axes[0], pairs, strict=True):
        x = summary[column].to_numpy(float)
        if kind == "unfairness":
            x = 1.0 - x
        y = summary["auc"].to_numpy(float)
        for method, xi, yi in zip(summary["method"], x, y, strict=True):
            axis.scatter(xi, yi, s=40)
            axis.annotate(
                str(method), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
        finite = np.isfinite(x) & np.isfinite(y)
        if finite.any():
            distance = (1 - x[finite]) + (1 - y[finite])
            best = float(distance.min())
            line = np.linspace(max(0.0, 1 - best), 1.0, 50)
            axis.plot(
                line, 2 - best - line, ":", color="gray", label=f"equal tradeoff ({best:.3f})"
            )
            axis.legend(loc="lower left", fontsize=8)
        axis.set_xlabel(label)
        axis.set_ylabel("AUC")
        axis.grid(alpha=0.3)
    return _save(plt, figure, title, path)


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
    return _save(plt, figure, title, path)
