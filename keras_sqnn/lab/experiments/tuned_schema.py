"""The layout of ``tuned_<dataset>.csv``: its columns, row key, method names, and its reader.

The writer (:mod:`keras_sqnn.lab.experiments.tuned`) and the readers
(:mod:`keras_sqnn.lab.experiments.tuned_report`, ``scripts/make_results.py``) share these
definitions and :func:`read_results`, the one reader with the one column check; this
module imports no Keras. :mod:`keras_sqnn.lab.experiments.methods` (whose ``METHOD_NAMES`` are
:data:`SEARCHED_METHODS`) and :mod:`keras_sqnn.lab.experiments.harness` (:data:`SCORE_COLUMNS`)
take their names from it. :func:`read_tuned` reads one experiment of several CSVs.

A row is one (dataset, method, outer fold, selection rule, budget, seed): :data:`ROW_KEY`.
The selection column holds the rule that chose the row's point, possibly with a variant
after a colon (``"auc_floor:none_eligible"`` is a row of rule ``"auc_floor"``). The
constant predictor's rows (:func:`constant_row`) have selection and budget ``"none"``:
they are the reference of every rule and budget of the same seed.

Example:
    >>> rule_of("auc_floor:none_eligible")
    'auc_floor'
    >>> budget_name("cpu", trials=20, epochs=5)
    'cpu_trials20_epochs5'
    >>> budget_command("cpu_trials20_epochs5")
    '--budget cpu --max-trials 20 --epochs 5'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_OUTER = N_INNER = 3
"""Outer and inner folds of the nested search (the paper's 3 x 3)."""

SQNN_METHODS = ("binary_bernoulli", "binary_mi", "binary_bernoulli_conditional")
"""The methods that count as an SQNN for the target; the conditional one is optional."""

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
"""The methods tuned by default: a complete dataset has each of them on every outer fold."""

SEARCHED_METHODS = (*SQNN_METHODS, *TUNED_METHODS[2:])
"""Every method with a search space, in a fixed order (it numbers the oracle ports)."""

REFERENCE = "constant"
"""The constant predictor's method name: a reference point, never a candidate for best."""

SELECTION_RULES = ("auc_floor", "objective")
"""The selection rules (:mod:`keras_sqnn.lab.experiments.selection`); the first is the default."""

SCORE_COLUMNS = (
    "auc",
    "accuracy",
    "gpa",
    "audc",
    "adrg",
    "probe_auc_s",
    "probe_auc_y",
    "tradeoff_gpa",
    "tradeoff_audc",
)
"""The test scores (:func:`keras_sqnn.lab.experiments.harness.score`) in a row, in order (its
``tradeoff_adrg`` is left out of the tuned CSV); ``compare``'s metric columns begin with them."""

CSV_COLUMNS = (
    "dataset",
    "method",
    "fold",
    "selection",
    "budget",
    "seed",
    "params",
    "trials",
    "inner_score",
    "inner_auc",
    *SCORE_COLUMNS,
    "train_seconds",
    "search_seconds",
)
"""The columns of ``tuned_<dataset>.csv``, in order."""

ROW_KEY = ("dataset", "method", "fold", "selection", "budget", "seed")
"""What identifies a row (its ``selection`` read with :func:`rule_of`)."""

METRICS = CSV_COLUMNS[CSV_COLUMNS.index("trials") :]
"""The numeric columns of a row, from ``trials`` on."""

DATASETS = ("compas", "adult", "banks")
"""The datasets whose ``tuned_<dataset>.csv`` a folder is searched for."""

_OPTIONS = {"trials": "--max-trials", "epochs": "--epochs", "probe": "--probe-trees"}


def rule_of(selection: Any) -> str:
    """The rule of a ``selection`` value: the part before any ``":"``."""
    return str(selection).split(":", 1)[0]


def budget_name(
    base: str,
    *,
    trials: int | None = None,
    epochs: int | None = None,
    probe_trees: int | None = None,
) -> str:
    """The name of budget ``base`` with overrides: ``<base>_trials<n>_epochs<n>_probe<n>``.

    Each override given is part of the name, so searches and rows of another setting are
    kept apart from the budget's own.
    """
    parts = [base]
    for key, value in (("trials", trials), ("epochs", epochs), ("probe", probe_trees)):
        if value is not None:
            parts.append(f"{key}{value}")
    return "_".join(parts)


def budget_command(name: str) -> str:
    """The ``keras-sqnn tune`` options that give a budget of this name (see :func:`budget_name`)."""
    base, *parts = name.split("_")
    options = [f"--budget {base}"]
    for part in parts:
        key = part.rstrip("0123456789")
        if key not in _OPTIONS or key == part:
            return f"--budget {name}"  # not a name that budget_name makes
        options.append(f"{_OPTIONS[key]} {part[len(key) :]}")
    return " ".join(options)


def constant_row(dataset: str, fold: int, seed: int, scores: Mapping[str, float]) -> dict:
    """The constant predictor's row of an outer fold, from its test ``scores``."""
    return {
        "dataset": dataset,
        "method": REFERENCE,
        "fold": fold,
        "selection": "none",
        "budget": "none",
        "seed": seed,
        "params": "{}",
        "trials": 0,
        "inner_score": math.nan,
        "inner_auc": math.nan,
        **{column: scores[column] for column in CSV_COLUMNS if column in scores},
        "train_seconds": 0.0,
        "search_seconds": 0.0,
    }


def read_results(path: str | Path) -> pd.DataFrame:
    """The rows of a ``tuned_<dataset>.csv`` (an empty table if there is none yet).

    Raises:
        ValueError: its columns are not :data:`CSV_COLUMNS` (the message names the file,
            the missing and the unexpected columns).
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(CSV_COLUMNS))
    table = pd.read_csv(path)
    columns = list(table.columns)
    if columns != list(CSV_COLUMNS):
        missing = [column for column in CSV_COLUMNS if column not in columns]
        extra = [column for column in columns if column not in CSV_COLUMNS]
        why = (
            "it has no `seed` column (written before rows were keyed by seed); "
            if "seed" in missing
            else ""
        )
        raise ValueError(
            f"Expected {path} to have the columns of a tuned CSV, {list(CSV_COLUMNS)}; "
            f"{why}missing: {missing}, unexpected: {extra}. Received: {columns}; move it "
            "away to start a new one."
        )
    return table


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


def _only(values: pd.Series, name: str, wanted: Any, where: str) -> Any:
    """``wanted`` if given, else the one value of ``values`` (None if empty)."""
    if wanted is not None:
        return wanted
    found = list(dict.fromkeys(values.tolist()))
    if len(found) > 1:
        raise ValueError(
            f"Expected the rows of one {name} in {where}; found {name}s {found}. "
            f"Pass {name}= to report one of them."
        )
    return found[0] if found else None


def one_experiment(
    table: pd.DataFrame,
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """The rows of one experiment: one selection rule, budget and seed, and the constant rows.

    A row's rule is its ``selection`` before any ``":"`` (``auc_floor:none_eligible`` rows
    are ``auc_floor`` rows). Where a (dataset, method, fold, rule, budget, seed) appears
    more than once (a fold re-run) the last row is kept. The constant predictor's rows
    (selection and budget ``"none"``) join every experiment of their seed.

    Args:
        table: rows of tuned CSVs.
        selection: the rule (one of :data:`SELECTION_RULES`).
        budget: the budget's name; None: the only one of each dataset's rows of the rule.
        seed: the seed; None: the only one of each dataset's rows of the rule.

    Returns:
        The rows, in the table's order; ``attrs["superseded"]`` counts the re-run rows
        dropped, ``attrs["selection"]`` is the rule and ``attrs["budgets"]`` and
        ``attrs["seeds"]`` map each dataset to its budget and seed (None where it has no
        rows of the rule).

    Raises:
        ValueError: an unknown rule, or several budgets (or seeds) in a dataset's rows of
            the rule and none chosen; the message names those found.
    """
    if selection not in SELECTION_RULES:
        raise ValueError(
            f"Expected `selection` to be one of {SELECTION_RULES}. Received: "
            f"selection={selection!r}"
        )
    rules = table["selection"].map(rule_of)
    keys = table[list(ROW_KEY)].assign(selection=rules).astype(str)
    duplicated = keys.duplicated(keep="last").to_numpy()
    constant = (table["method"] == REFERENCE).to_numpy()
    keep = np.zeros(len(table), dtype=bool)
    budgets, seeds = {}, {}
    for dataset in dict.fromkeys(table["dataset"]):
        mine = (table["dataset"] == dataset).to_numpy() & ~duplicated
        tuned = mine & ~constant & (rules == selection).to_numpy()
        where = f"the {selection} rows of {dataset}"
        chosen_seed = _only(
            table["seed"][tuned if tuned.any() else mine & constant], "seed", seed, where
        )
        tuned &= (table["seed"] == chosen_seed).to_numpy()
        chosen_budget = _only(table["budget"][tuned].astype(str), "budget", budget, where)
        tuned &= (table["budget"].astype(str) == chosen_budget).to_numpy()
        keep |= tuned | (mine & constant & (table["seed"] == chosen_seed).to_numpy())
        budgets[dataset], seeds[dataset] = chosen_budget, chosen_seed
    rows = table[keep].reset_index(drop=True)
    rows.attrs = {
        "superseded": table.attrs.get("superseded", 0) + int(duplicated.sum()),
        "selection": selection,
        "budgets": budgets,
        "seeds": seeds,
    }
    return rows


def read_tuned(
    sources: str | Path | Iterable[str | Path],
    *,
    selection: str = SELECTION_RULES[0],
    budget: str | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Read and check the tuned CSVs; the rows of one experiment (:func:`one_experiment`).

    Args:
        sources: a directory (its ``tuned_*.csv``), a CSV, or several of either.
        selection, budget, seed: the experiment (see :func:`one_experiment`).

    Returns:
        One row per (dataset, method, fold) of the experiment, metrics as floats, with
        :func:`one_experiment`'s ``attrs``.

    Raises:
        ValueError: a CSV is not a tuned CSV
            (:func:`keras_sqnn.lab.experiments.tuned_schema.read_results`), or the experiment
            is ambiguous (:func:`one_experiment`).
    """
    table = pd.concat([read_results(path) for path in tuned_csvs(sources)], ignore_index=True)
    numeric = [*METRICS, "fold", "seed"]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    table["fold"] = table["fold"].astype(int)
    return one_experiment(table, selection=selection, budget=budget, seed=seed)
