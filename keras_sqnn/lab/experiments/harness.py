"""Train every method on the same folds and score it with the same metrics: one table."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from keras_sqnn.datasets import (
    Dataset,
    FoldArrays,
    OuterFold,
    fetch_adult,
    fetch_banks,
    fetch_compas,
    nested_folds,
    train_test_arrays,
)
from keras_sqnn.lab.experiments.methods import BUDGETS, Method, default_param, make_method
from keras_sqnn.lab.experiments.tuned_schema import SCORE_COLUMNS
from keras_sqnn.metrics import auc, audc, gpa, representation_probe, tradeoff_distance

LOADERS: dict[str, Callable[[], Dataset]] = {
    "adult": fetch_adult,
    "banks": fetch_banks,
    "compas": fetch_compas,
}

METRICS = (*SCORE_COLUMNS, "tradeoff_adrg", "train_seconds")
"""The metric columns of :func:`compare`'s table, in order."""

COLUMNS = ("dataset", "method", "param_name", "param", "fold", *METRICS, "n_train", "n_test")


def load_dataset(dataset: str | Dataset) -> Dataset:
    """``dataset`` itself, or the dataset of that name in :data:`LOADERS`, loaded."""
    if isinstance(dataset, Dataset):
        return dataset
    if dataset not in LOADERS:
        raise ValueError(
            f"Expected `dataset` to be a Dataset or one of {tuple(LOADERS)}. "
            f"Received: dataset={dataset!r}"
        )
    return LOADERS[dataset]()


def _folds(folds: Any, ds: Dataset, n_outer: int, seed: int) -> list[tuple[Any, Any]]:
    if folds is None:
        folds = nested_folds(
            np.asarray(ds.y), np.asarray(ds.s), n_outer=n_outer, n_inner=2, seed=seed
        )
    pairs = []
    for index, fold in enumerate(folds):
        if isinstance(fold, OuterFold):
            pairs.append((fold.train, fold.test))
        elif isinstance(fold, Sequence) and len(fold) == 2:
            pairs.append((fold[0], fold[1]))
        else:
            raise ValueError(
                "Expected `folds` to hold OuterFold objects or (train, test) index pairs. "
                f"Received: folds[{index}]={fold!r}"
            )
    if not pairs:
        raise ValueError("Expected at least one fold. Received: folds=[]")
    return pairs


def _params(
    methods: Sequence[str], gammas: Mapping[str, Sequence[float]] | None, dataset: str
) -> dict[str, list[float]]:
    gammas = dict(gammas or {})
    unknown = set(gammas) - set(methods)
    if unknown:
        raise ValueError(
            f"Expected `gammas` keys among the methods {list(methods)}. "
            f"Received: keys {sorted(unknown)}"
        )
    params = {}
    for name in methods:
        values = gammas.get(name)
        if values is None:
            params[name] = [default_param(name, dataset)]
        elif isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ValueError(
                f"Expected `gammas[{name!r}]` to be a non-empty list of numbers. "
                f"Received: {values!r}"
            )
        else:
            params[name] = [float(value) for value in values]
    return params


def _tradeoff(auc_value: float, unfairness: float) -> float:
    if math.isnan(unfairness):
        return math.nan
    return float(tradeoff_distance(auc_value, unfairness))


def score(
    method: Method,
    x: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    *,
    probe_trees: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """The metrics of a fitted method on test data (all columns of ``compare`` but timing).

    AUC; accuracy at the 0.5 threshold; GPA and AUDC of the scores; ADRG, probe AUCs for S
    and Y of a ``probe_trees``-tree random forest trained on 70% of the test rows'
    representation and evaluated on the rest (NaN when the method has no representation);
    the tradeoff distances ``(1 - AUC) + unfairness`` for GPA, AUDC and ADRG.

    Args:
        method: a fitted method.
        x: test features.
        y: test labels.
        s: test groups.
        probe_trees: trees of the probe forests.
        seed: seed of the probe.

    Returns:
        A dict of floats.
    """
    scores = method.predict_proba(x, s)
    result = {
        "auc": auc(y, scores),
        "accuracy": float(np.mean((scores >= 0.5) == (y == 1))),
        "gpa": gpa(y, scores, sensitive_features=s),
        "audc": audc(y, scores, sensitive_features=s),
        "adrg": math.nan,
        "probe_auc_s": math.nan,
        "probe_auc_y": math.nan,
    }
    representation = method.representation(x, s)
    if representation is not None:
        probe = representation_probe(
            representation, y=y, sensitive_features=s, n_estimators=probe_trees, random_state=seed
        )
        result["adrg"] = probe.adrg
        result["probe_auc_s"] = probe.probe_auc_s
        result["probe_auc_y"] = math.nan if probe.probe_auc_y is None else probe.probe_auc_y
    for metric in ("gpa", "audc", "adrg"):
        result[f"tradeoff_{metric}"] = _tradeoff(result["auc"], result[metric])
    return result


def fit_and_score(
    method: Method, arrays: FoldArrays, *, probe_trees: int, seed: int
) -> tuple[dict[str, float], float]:
    """Fit ``method`` on a fold's training rows and score it on its test rows.

    Args:
        method: an unfitted method.
        arrays: the fold's encoded rows (``train_test_arrays``).
        probe_trees: trees of the probe forests (see :func:`score`).
        seed: seed of the probe.

    Returns:
        The test scores of :func:`score` and the seconds ``method.fit`` took.
    """
    started = time.perf_counter()
    method.fit(arrays.x_train, arrays.y_train, arrays.s_train)
    seconds = time.perf_counter() - started
    scores = score(
        method, arrays.x_test, arrays.y_test, arrays.s_test, probe_trees=probe_trees, seed=seed
    )
    return scores, seconds


def compare(
    methods: Sequence[str],
    dataset: str | Dataset,
    folds: Sequence[Any] | None = None,
    *,
    gammas: Mapping[str, Sequence[float]] | None = None,
    budget: str = "small",
    n_outer: int = 3,
    seed: int = 0,
    probe_trees: int = 100,
    epochs: int | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Train each method at each parameter on each fold; score it on the fold's test rows.

    Every method sees the same rows: for each fold the features are encoded by a
    ``TabularPreprocessor`` fitted on the fold's training rows (``train_test_arrays``), the
    method is fitted on them (with S, which the fair methods use in training), and scored
    on the test rows by :func:`score`. Before each fit Keras' session is cleared and every
    random generator seeded with ``seed`` (``keras.utils.set_random_seed``), so a seed
    gives the same table, ``train_seconds`` aside.

    S at inference: the VFAE's encoder takes S, so its test scores use the test rows' S
    (as in Louizos et al.); every other method predicts from the features alone.

    Representations probed for ADRG: the SQNNs' sampled binary codes of the regularised
    layer; the same layer (sigmoid) of the vanilla network; AdvCls' encoder output; one
    sample of the VFAE's ``q(z1 | x, s)`` (stochastic like the SQNNs' codes; its mean can
    carry more about S, since the MMD term sees samples); the last hidden layer of
    fairlearn's adversarial predictor. The fairlearn reductions learn no representation:
    their ADRG and probe columns are NaN ("not applicable").

    Args:
        methods: names from ``keras_sqnn.lab.experiments.METHOD_NAMES``.
        dataset: ``"compas"``, ``"adult"``, ``"banks"`` or a tabular ``Dataset``.
        folds: ``OuterFold`` objects or ``(train, test)`` row-index pairs; None uses the
            outer folds of ``nested_folds(y, s, n_outer=n_outer, seed=seed)``.
        gammas: per method, the list of fairness parameters to run (gamma, epsilon for
            the fairlearn reductions, alpha for fairlearn's adversarial method); methods
            left out run their default (``default_param``).
        budget: ``"small"`` (20 epochs, a few minutes on COMPAS) or ``"paper"`` (100
            epochs, Table 2 settings); see ``make_method``.
        n_outer: number of outer folds when ``folds`` is None.
        seed: the seed of the folds, the models and the probes.
        probe_trees: trees of the ADRG probe forests (the paper: 1000).
        epochs: optional override of the budget's epochs.
        verbose: print one line per fit: fold, method, parameter, its scores, the fit's
            seconds and the seconds elapsed since the start.

    Returns:
        A DataFrame with one row per (method, parameter, fold) and the columns
        ``COLUMNS``: dataset, method, param_name, param, fold, auc, accuracy, gpa, audc,
        adrg, probe_auc_s, probe_auc_y, tradeoff_gpa, tradeoff_audc, tradeoff_adrg,
        train_seconds, n_train, n_test.

    Example:
        >>> table = compare(["vanilla", "adv_cls"], "compas", epochs=2)  # doctest: +SKIP
        >>> summarize(table)  # doctest: +SKIP
    """
    methods = list(methods)
    if not methods:
        raise ValueError("Expected at least one method. Received: methods=[]")
    if budget not in BUDGETS:
        raise ValueError(f"Expected `budget` in {tuple(BUDGETS)}. Received: budget={budget!r}")
    ds = load_dataset(dataset)
    params = _params(methods, gammas, ds.name)
    for name in methods:  # Fail on bad names or parameters before training anything.
        for param in params[name]:
            make_method(name, param, dataset=ds.name, budget=budget, epochs=epochs)
    rows = []
    pairs = _folds(folds, ds, n_outer, seed)
    fits = len(pairs) * sum(len(values) for values in params.values())
    started = time.perf_counter()
    for fold_index, (train, test) in enumerate(pairs):
        arrays = train_test_arrays(ds, train, test)
        for name in methods:
            for param in params[name]:
                keras.backend.clear_session()
                keras.utils.set_random_seed(seed)
                method = make_method(
                    name,
                    param,
                    dataset=ds.name,
                    budget=budget,
                    epochs=epochs,
                    num_groups=ds.n_groups,
                    seed=seed,
                )
                metrics, seconds = fit_and_score(method, arrays, probe_trees=probe_trees, seed=seed)
                row = {
                    "dataset": ds.name,
                    "method": name,
                    "param_name": method.param_name,
                    "param": method.param,
                    "fold": fold_index,
                    **metrics,
                    "train_seconds": seconds,
                    "n_train": len(arrays.y_train),
                    "n_test": len(arrays.y_test),
                }
                rows.append(row)
                if verbose:
                    print(
                        f"[{ds.name} fold {fold_index + 1}/{len(pairs)}, fit {len(rows)}/{fits}] "
                        f"{name} {method.param_name}={param:g}: AUC {row['auc']:.3f} "
                        f"GPA {row['gpa']:.3f} AUDC {row['audc']:.3f} ADRG {row['adrg']:.3f} "
                        f"(fit {seconds:.1f} s, {time.perf_counter() - started:.1f} s elapsed)",
                        flush=True,
                    )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def summarize(table: pd.DataFrame, *, text: bool = False, digits: int = 3) -> pd.DataFrame:
    """Mean and standard deviation over folds of each metric, per (method, parameter).

    Args:
        table: the result of :func:`compare`.
        text: return ``"mean ± std"`` strings instead of numbers; ``"mean"`` alone where
            the std is undefined (a single fold).
        digits: decimals of the strings.

    Returns:
        Indexed by (dataset, method, param_name, param) in the table's order. With
        ``text=False`` the columns are ``(metric, "mean" | "std")``; with ``text=True``
        one string column per metric. The std is the sample std (NaN for one fold).

    Example:
        >>> table = pd.DataFrame({"dataset": "d", "method": "m", "param_name": "gamma",
        ...     "param": 0.5, "fold": [0, 1], "auc": [0.7, 0.8]})
        >>> summarize(table, text=True)["auc"].tolist()
        ['0.750 ± 0.071']
    """
    keys = ["dataset", "method", "param_name", "param"]
    metrics = [column for column in METRICS if column in table.columns]
    missing = [key for key in keys if key not in table.columns]
    if missing or not metrics:
        raise ValueError(
            f"Expected a table from `compare` with columns {keys} and metrics. "
            f"Received: columns={list(table.columns)}"
        )
    summary = table.groupby(keys, sort=False)[metrics].agg(["mean", "std"])
    if not text:
        return summary
    return pd.DataFrame(
        {
            metric: [
                f"{mean:.{digits}f}" if math.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"
                for mean, std in zip(
                    summary[(metric, "mean")], summary[(metric, "std")], strict=True
                )
            ]
            for metric in metrics
        },
        index=summary.index,
    )
