"""Every method tuned by the same nested search; one tidy CSV row per (method, outer fold).

:func:`tune_method` runs the paper's protocol for one method of
:data:`keras_sqnn.lab.experiments.spaces.SPACES` on one dataset. For each outer fold of
``nested_folds(y, s, n_outer=3, n_inner=3, seed=seed)`` (the same folds for every
method) it runs, or continues, a Bayesian search of the method's space on the 3 inner
folds (:class:`keras_sqnn.tuning.FairnessTuner`: the mean inner
``AUC + (1 - GPA) + (1 - AUDC)``, maximised), selects a trial with a rule of
:mod:`keras_sqnn.lab.experiments.selection` (by default ``auc_floor``, whose reference is the
tuned vanilla network's best inner AUC on the same outer fold: the vanilla search of that
fold is run, or continued, first), refits the selected setting on the whole outer training
fold, scores it on the outer test fold with :func:`keras_sqnn.lab.experiments.harness.score`
and appends one row to ``<out>/tuned_<dataset>.csv``. A rerun skips the rows already
there. Each outer fold also gets one row of the constant predictor (``method``
``"constant"``, ``selection`` and ``budget`` ``"none"``), the reference point.

Searches are stored in ``<searches>/<dataset>/<budget>/<method>/outer<k>`` (with
``_seed<s>`` for a seed s other than 0) and resume, so a dataset can be tuned over several
sittings. They are distributable with KerasTuner's
mode: start the same command with ``KERASTUNER_TUNER_ID=chief`` and with
``KERASTUNER_TUNER_ID=tuner0``, ``tuner1``..., all with ``KERASTUNER_ORACLE_IP`` and
``KERASTUNER_ORACLE_PORT``; the workers run trials, the chief selects, refits and writes.
A worker never reads the CSV and never starts a search over: it takes part in every search
of the command, and the chief, in this mode, runs every search too, even of a fold already
in the CSV. A finished search (all its trials stored as done) is skipped by the chief and
the workers alike (unless ``resume=False``), each reading the stored trials: none serves
or waits for the others; an unfinished one is served by the chief and run by the workers.
Each search has its own port, ``KERASTUNER_ORACLE_PORT + oracle_port_offset(method,
fold)`` (:func:`oracle_port_offset`: a method's own search of outer fold k on ``3 i + k``,
``i`` the method's index in :data:`keras_sqnn.lab.experiments.tuned_schema.SEARCHED_METHODS`;
the vanilla reference search run for it on ``27 + 3 i + k``), so the ports 0 to 53 above
the base must be open.

Budgets (:data:`TUNING_BUDGETS`): ``"paper"`` is 200 trials of 100 epochs, the SQNNs at
Adam 1e-4, on whole inner folds. ``"cpu"`` fits all eight default methods on one dataset
in about 90 minutes on two CPU cores; it tunes on a stratified (by y and s) subsample of
4,000 rows of each inner training fold (Adult and Banks; COMPAS' are smaller), while the
inner validation folds, the refits and the tests use every row.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd

from keras_sqnn.datasets import Dataset, FoldArrays, OuterFold, nested_folds, train_test_arrays
from keras_sqnn.distributed_search import is_distributed, is_worker
from keras_sqnn.lab.experiments import spaces
from keras_sqnn.lab.experiments.builders import ConstantMethod
from keras_sqnn.lab.experiments.harness import fit_and_score, load_dataset, score
from keras_sqnn.lab.experiments.method_search import (
    TUNING_BUDGETS,
    TuningBudget,
    inner_arrays,
    search_fold,
    trial_records,
)
from keras_sqnn.lab.experiments.selection import (
    Selection,
    TrialRecord,
    best_auc,
    check_rule,
    select,
)
from keras_sqnn.lab.experiments.tuned_schema import (
    CSV_COLUMNS,
    N_INNER,
    N_OUTER,
    SEARCHED_METHODS,
    constant_row,
    read_results,
    rule_of,
)
from keras_sqnn.tuning import OBJECTIVE

__all__ = ["CSV_COLUMNS", "oracle_port_offset", "read_results", "tune_method"]


def _budget(budget: str | TuningBudget) -> TuningBudget:
    if isinstance(budget, TuningBudget):
        return budget
    if budget not in TUNING_BUDGETS:
        raise ValueError(
            f"Expected `budget` in {tuple(TUNING_BUDGETS)} or a TuningBudget. "
            f"Received: budget={budget!r}"
        )
    return TUNING_BUDGETS[budget]


def _outer_indices(outer_folds: Any) -> list[int]:
    if outer_folds is None:
        return list(range(N_OUTER))
    indices = list(outer_folds)
    if not indices or any(not isinstance(i, int) or not 0 <= i < N_OUTER for i in indices):
        raise ValueError(
            f"Expected `outer_folds` to list fold indices in 0..{N_OUTER - 1}. "
            f"Received: outer_folds={outer_folds!r}"
        )
    return indices


def oracle_port_offset(method: str, fold: int, *, reference: bool = False) -> int:
    """The port of a search above ``KERASTUNER_ORACLE_PORT`` in KerasTuner's distributed mode.

    ``method``'s own search of outer fold ``fold`` is at ``N_OUTER * i + fold``, ``i`` the
    method's index in :data:`keras_sqnn.lab.experiments.tuned_schema.SEARCHED_METHODS`; the
    vanilla reference search run for it (``reference=True``) is ``N_OUTER *
    len(SEARCHED_METHODS)`` further. It depends only on the search, so a chief and its
    workers agree on it whatever each has run before.

    Example:
        >>> oracle_port_offset("binary_mi", 2), oracle_port_offset("binary_mi", 2, reference=True)
        (5, 32)
    """
    index = SEARCHED_METHODS.index(method)
    return N_OUTER * (index + (len(SEARCHED_METHODS) if reference else 0)) + fold


def _rows_of(table: pd.DataFrame, **key: Any) -> np.ndarray:
    """A mask of the rows with these column values; a ``selection`` matches its variants."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in key.items():
        values = table[column]
        if column == "selection":  # "auc_floor:none_eligible" is a row of rule "auc_floor".
            values = values.map(rule_of)
        mask &= (values == value).to_numpy()
    return mask


def _write_row(path: Path, row: dict[str, Any], *, replace: dict[str, Any] | None) -> None:
    """Append ``row`` to the CSV; first drop the rows matching ``replace``, if given."""
    frame = pd.DataFrame([row], columns=list(CSV_COLUMNS))
    if replace is not None and path.exists():
        table = read_results(path)
        pd.concat([table[~_rows_of(table, **replace)], frame]).to_csv(path, index=False)
        return
    frame.to_csv(path, mode="a", header=not path.exists(), index=False)


def _refit_and_score(
    method: str,
    chosen: Selection,
    arrays: FoldArrays,
    *,
    budget: TuningBudget,
    num_groups: int,
    seed: int,
) -> tuple[dict[str, float], float]:
    keras.backend.clear_session()
    model = spaces.method_from(
        method,
        chosen.record.values,
        epochs=budget.epochs,
        learning_rate=budget.learning_rate,
        num_groups=num_groups,
        seed=seed,
    )
    return fit_and_score(model, arrays, probe_trees=budget.probe_trees, seed=seed)


def _constant_row(dataset: Dataset, index: int, arrays: FoldArrays, seed: int) -> dict[str, Any]:
    constant = ConstantMethod().fit(arrays.x_train, arrays.y_train, arrays.s_train)
    test = score(constant, arrays.x_test, arrays.y_test, arrays.s_test)
    return constant_row(dataset.name, index, seed, test)


def _search_and_select(
    dataset: Dataset,
    method: str,
    outer: OuterFold,
    index: int,
    budget: TuningBudget,
    searches: str | Path,
    selection: str,
    resume: bool,
    seed: int,
    verbose: int,
) -> tuple[Selection, list[TrialRecord], float | None] | None:
    """Run the fold's searches (vanilla's first for auc_floor); None on a worker."""
    inner, digests = inner_arrays(dataset, outer, n_inner_train=budget.n_inner_train, seed=seed)

    def search(name: str, resume: bool, port_offset: int) -> list[TrialRecord]:
        tuner = search_fold(
            dataset,
            name,
            index,
            inner,
            digests,
            budget=budget,
            searches=searches,
            resume=resume,
            seed=seed,
            verbose=verbose,
            port_offset=port_offset,
        )
        return [] if is_worker() else trial_records(tuner, name)

    floor = selection == "auc_floor"
    vanilla = []
    if floor and method != "vanilla":
        vanilla = search("vanilla", True, oracle_port_offset(method, index, reference=True))
    records = search(method, resume, oracle_port_offset(method, index))
    if is_worker():
        return None
    if not floor:
        return select(records, selection), records, None
    reference = best_auc(records if method == "vanilla" else vanilla)
    return select(records, selection, reference_auc=reference), records, reference


def _tuned_row(
    dataset: str,
    unit: dict[str, Any],
    chosen: Selection,
    records: list[TrialRecord],
    test: dict[str, float],
    seconds: float,
) -> dict[str, Any]:
    """The CSV row of a selected, refit and tested trial; ``unit`` is the row's key."""
    return {
        "dataset": dataset,
        **unit,
        "selection": chosen.rule,
        "params": json.dumps(dict(chosen.record.values), sort_keys=True),
        "trials": len(records),
        "inner_score": chosen.record.score,
        "inner_auc": chosen.record.auc,
        **{column: test[column] for column in CSV_COLUMNS if column in test},
        "train_seconds": seconds,
        "search_seconds": sum(r.metrics.get("seconds", 0.0) for r in records),
    }


def tune_method(
    dataset: str | Dataset,
    method: str,
    *,
    out: str | Path,
    searches: str | Path,
    budget: str | TuningBudget = "cpu",
    outer_folds: list[int] | None = None,
    selection: str = "auc_floor",
    resume: bool = True,
    seed: int = 0,
    verbose: int = 1,
) -> pd.DataFrame:
    """Tune ``method`` on each outer fold, refit and test it; append ``tuned_<dataset>.csv``.

    Args:
        dataset: ``"compas"``, ``"adult"``, ``"banks"`` or a tabular ``Dataset`` with one
            sensitive attribute.
        method: a method of :data:`keras_sqnn.lab.experiments.spaces.SPACES`.
        out: folder of ``tuned_<dataset>.csv``.
        searches: folder of the searches.
        budget: ``"cpu"``, ``"paper"`` or a :class:`TuningBudget`.
        outer_folds: the outer folds to run (default: 0, 1 and 2).
        selection: ``"auc_floor"`` or ``"objective"`` (see
            :mod:`keras_sqnn.lab.experiments.selection`).
        resume: continue stored searches and skip the (method, fold, selection, budget,
            seed) rows already in the CSV; False starts the method's searches over and
            replaces its rows (the vanilla reference searches are continued either way). A
            worker of KerasTuner's distributed mode never deletes a search or reads the CSV:
            with False it joins the searches its chief starts over.
        seed: seed of the folds, the searches, the fits and the probes (a column of the
            CSV, part of the row's key).
        verbose: 1 prints KerasTuner's trial summaries, one line per inner fit, trial,
            outer fold and method, with seconds; 0 prints nothing.

    Returns:
        The CSV's rows of ``method`` with this selection rule, budget and seed (none on a
        worker of KerasTuner's distributed mode, which never reads the CSV).

    Example:
        >>> tune_method("compas", "vfae", out="results", searches="searches")  # doctest: +SKIP
    """
    plan = _budget(budget)
    check_rule(selection)
    spaces.declare(method, kt.HyperParameters())
    indices = _outer_indices(outer_folds)
    ds = load_dataset(dataset)
    if np.asarray(ds.s).ndim != 1:
        raise ValueError(
            "Expected a dataset with one sensitive attribute. "
            f"Received: s of shape {np.asarray(ds.s).shape}"
        )
    Path(out).mkdir(parents=True, exist_ok=True)
    path = Path(out) / f"tuned_{ds.name}.csv"
    folds = nested_folds(ds.y, ds.s, n_outer=N_OUTER, n_inner=N_INNER, seed=seed)
    chief = not is_worker()
    started = time.perf_counter()
    prefix = f"[{ds.name} {method}]"
    for index in indices:
        outer = folds[index]
        arrays = None
        unit = {
            "method": method,
            "fold": index,
            "selection": selection,
            "budget": plan.name,
            "seed": seed,
        }
        done = False
        if chief:  # A worker never reads the CSV: it takes part in every search.
            table = read_results(path)
            if not _rows_of(table, method="constant", fold=index, seed=seed).any():
                arrays = train_test_arrays(ds, outer.train, outer.test)
                _write_row(path, _constant_row(ds, index, arrays, seed), replace=None)
            done = resume and bool(_rows_of(table, **unit).any())
            if done and not is_distributed():
                if verbose:
                    print(f"{prefix} outer fold {index}: already in {path}, skipped", flush=True)
                continue
        searched = _search_and_select(
            ds, method, outer, index, plan, searches, selection, resume, seed, verbose
        )
        if searched is None:  # A worker of a distributed search: the chief goes on.
            continue
        if done:  # The chief took part in the fold's searches with the workers.
            if verbose:
                print(f"{prefix} outer fold {index}: already in {path}, searches run", flush=True)
            continue
        chosen, records, reference = searched
        if arrays is None:
            arrays = train_test_arrays(ds, outer.train, outer.test)
        test, seconds = _refit_and_score(
            method, chosen, arrays, budget=plan, num_groups=ds.n_groups, seed=seed
        )
        row = _tuned_row(ds.name, unit, chosen, records, test, seconds)
        _write_row(path, row, replace=None if resume else unit)
        if verbose:
            floor = "" if reference is None else f", vanilla's best inner AUC {reference:.3f}"
            print(
                f"{prefix} outer fold {index}: trial {chosen.record.trial_id} of "
                f"{len(records)} by {chosen.rule}{floor}: inner {OBJECTIVE} "
                f"{chosen.record.score:.3f} AUC {chosen.record.auc:.3f}; test AUC "
                f"{test['auc']:.3f} GPA {test['gpa']:.3f} AUDC {test['audc']:.3f} (refit "
                f"{seconds:.1f} s, {time.perf_counter() - started:.1f} s elapsed)",
                flush=True,
            )
    if verbose:
        print(f"{prefix} done in {time.perf_counter() - started:.1f} s", flush=True)
    if not chief:
        return pd.DataFrame(columns=list(CSV_COLUMNS))
    table = read_results(path)
    mine = _rows_of(table, method=method, selection=selection, budget=plan.name, seed=seed)
    return table[mine].reset_index(drop=True)
