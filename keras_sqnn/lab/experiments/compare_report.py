"""Markdown of the untuned comparisons of docs/RESULTS.md: `keras-sqnn compare` and `sweep`.

:func:`untuned_section` renders each dataset's small-budget comparison from
``RESULTS_DIR/<dataset>/compare.csv`` (written by ``keras-sqnn compare``);
:func:`sweep_section` renders Figure 3's gamma sweep on COMPAS from
``RESULTS_DIR/compas/sweep_correlations.csv`` (written by ``keras-sqnn sweep``). Each copies
its figure, where there is one, into the page's figures folder. ``scripts/make_results.py``
assembles the page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from keras_sqnn.lab.experiments.harness import summarize
from keras_sqnn.lab.experiments.tuned_markdown import markdown_table

__all__ = ["COLUMNS", "sweep_section", "untuned_section"]

COLUMNS = [
    "auc",
    "accuracy",
    "gpa",
    "audc",
    "adrg",
    "tradeoff_gpa",
    "tradeoff_audc",
    "train_seconds",
]
"""The columns of each untuned table, mean ± std over the outer folds."""


def _target_line(means: pd.DataFrame) -> str:
    """Does the better SQNN beat AdvCls, VFAE and fairlearn EG in each plane?"""
    by_method = {key[1]: row for key, row in means.iterrows()}
    verdicts = []
    for column, plane in (("tradeoff_gpa", "AUC/1-GPA"), ("tradeoff_audc", "AUC/1-AUDC")):
        sqnn = min(
            by_method[m][(column, "mean")]
            for m in ("binary_bernoulli", "binary_mi")
            if m in by_method
        )
        rivals = {
            m: by_method[m][(column, "mean")]
            for m in ("adv_cls", "vfae", "fairlearn_eg")
            if m in by_method
        }
        beaten = [m for m, value in rivals.items() if sqnn < value]
        missed = [m for m, value in rivals.items() if sqnn >= value]
        verdicts.append(
            f"{plane}: best SQNN {sqnn:.3f} beats {', '.join(beaten) or 'none'}"
            + (f"; not {', '.join(missed)}" if missed else " (target met)")
        )
    return "Target (SQNN's trade-off better than AdvCls, VFAE, EG): " + " | ".join(verdicts)


def _compare_section(results: Path, figures: Path, dataset: str) -> list[str]:
    path = results / dataset / "compare.csv"
    if not path.exists():
        return [f"### {dataset} (untuned)", "", "Not run yet.", ""]
    table = pd.read_csv(path)
    text = summarize(table, text=True)[COLUMNS].reset_index()
    text = text.drop(columns=["dataset", "param_name"])
    means = summarize(table)
    best = {}
    for column in ("tradeoff_gpa", "tradeoff_audc"):
        series = means[(column, "mean")]
        best[column] = series.idxmin()[1]
    figure = results / dataset / "compare.png"
    lines = [f"### {dataset} (untuned, {table['fold'].nunique()} outer folds, mean ± std)", ""]
    lines.append(markdown_table(text))
    lines.append("")
    lines.append(
        f"Best trade-off (smallest L1 distance to (1, 1)): AUC/1-GPA **{best['tradeoff_gpa']}**, "
        f"AUC/1-AUDC **{best['tradeoff_audc']}**."
    )
    lines.append("")
    lines.append(_target_line(means))
    if figure.exists():
        shutil.copy(figure, figures / f"{dataset}_compare.png")
        lines += ["", f"![{dataset}](figures/{dataset}_compare.png)"]
    return [*lines, ""]


def untuned_section(results: Path, figures: Path) -> list[str]:
    """The small-budget comparison of each dataset, from ``results/<dataset>/compare.csv``."""
    lines = [
        "## Untuned comparison (fixed parameters): `keras-sqnn compare --dataset D --budget small`",
        "",
        "**Untuned**: no hyper-parameter search was run for these tables. Small budget: 20",
        "epochs, batch 128, Adam 1e-3, the SQNNs at the paper's Table 2 gamma (tuned by the",
        "authors for their implementation), baselines at fixed parameters (AdvCls gamma 0.5,",
        "VFAE MMD weight 100, fairlearn EG epsilon 0.01); ADRG with a 100-tree forest. The",
        "tuned section above is the comparison the paper makes.",
        "",
    ]
    for dataset in ("compas", "adult", "banks"):
        lines += _compare_section(results, figures, dataset)
    return lines


def sweep_section(results: Path, figures: Path) -> list[str]:
    """Figure 3's gamma sweep on COMPAS, from ``results/compas/sweep_correlations.csv``."""
    sweep = results / "compas" / "sweep_correlations.csv"
    lines = ["## Stability in gamma (Figure 3): `keras-sqnn sweep --dataset compas`", ""]
    if not sweep.exists():
        return [*lines, "Not run yet.", ""]
    correlations = pd.read_csv(sweep).set_index("method")["pearson_gamma_1_minus_gpa"]
    lines += [markdown_table(pd.read_csv(sweep).round(3)), ""]
    if {"binary_bernoulli", "adv_cls"} <= set(correlations.index):
        ours, theirs = correlations["binary_bernoulli"], correlations["adv_cls"]
        met = ours >= 0.92 and ours > theirs
        lines += [
            f"Target (rho(gamma, 1-GPA) >= 0.92 for BinaryBernoulli and above AdvCls'): "
            f"{ours:.3f} vs {theirs:.3f}, {'met' if met else 'missed'}.",
            "",
        ]
    if (results / "compas" / "sweep.png").exists():
        shutil.copy(results / "compas" / "sweep.png", figures / "compas_sweep.png")
        lines += ["![sweep](figures/compas_sweep.png)", ""]
    return lines
