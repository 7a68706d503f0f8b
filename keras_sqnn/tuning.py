"""Bayesian hyper-parameter search for SQNN classifiers with KerasTuner (the paper's protocol).

The paper tunes each model with Bayesian optimisation over 3 internal folds, maximising
``AUC + (1 - GPA) + (1 - AUDC)``, then evaluates the best setting on 3 external folds.

* :mod:`keras_sqnn.hypermodel` (re-exported here) holds the selection score
  :func:`fairness_score`, the paper's space (:func:`sqnn_space`, Table 2) and
  :class:`SQNNHyperModel`, which searches it.
* :class:`FairnessTuner` is a ``keras_tuner.BayesianOptimization`` whose ``run_trial`` trains
  on every inner fold and returns the mean score as the objective ``fairness_score``
  (direction ``max``), with the mean ``auc``, ``gpa`` and ``audc`` as further metrics. It
  tunes an :class:`SQNNHyperModel`, or any method of the lab
  (``keras_sqnn.lab.experiments.method_search.MethodHyperModel``). An existing search
  directory is never reloaded silently: pass ``resume=True`` to continue it (finished trials
  are kept, an interrupted trial is run again) or ``overwrite=True`` to start over; resuming
  a directory made for other data or another space is refused. A finished search (its
  ``max_trials`` trials all stored as completed or failed) is not run again: ``search``
  returns at once.
* :func:`nested_search` runs the whole 3 x 3 protocol and returns one row per outer fold.

Distributed search uses KerasTuner's own mode: start the same program as the chief
(``KERASTUNER_TUNER_ID=chief``) and as workers (``tuner0``, ``tuner1``...), all with
``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT`` pointing at the chief; each search of
a program is served on ``KERASTUNER_ORACLE_PORT + port_offset``. How the chief and the
workers meet on each search, and the KerasTuner workarounds that takes, are in
:mod:`keras_sqnn.distributed_search`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd

from keras_sqnn import metrics
from keras_sqnn.distributed_search import (
    forget_finished_retries,
    is_worker,
    oracle_port,
    oracle_saved_at,
    stored_search_finished,
    wait_for_chief,
)
from keras_sqnn.hypermodel import ESTIMATORS as ESTIMATORS
from keras_sqnn.hypermodel import OBJECTIVE as OBJECTIVE
from keras_sqnn.hypermodel import SQNNHyperModel as SQNNHyperModel
from keras_sqnn.hypermodel import declare_batch_size as declare_batch_size
from keras_sqnn.hypermodel import fairness_score as fairness_score
from keras_sqnn.hypermodel import sqnn_space as sqnn_space

if TYPE_CHECKING:
    from keras_sqnn.datasets import FoldArrays

_FINGERPRINT = "keras_sqnn_search.json"


class FairnessTuner(kt.BayesianOptimization):
    """Bayesian optimisation of ``mean over folds of AUC + (1 - GPA) + (1 - AUDC)`` (maximised).

    Call ``search(folds)`` with a list of fold arrays (objects with ``x_train, y_train,
    s_train, x_test, y_test, s_test``, e.g. :func:`keras_sqnn.datasets.train_test_arrays`).
    Each trial returns the means over the folds of ``fairness_score``, ``auc``, ``gpa``
    and ``audc``, and the seconds it took (``seconds``, summed over the folds); the oracle
    keeps them as the trial's metrics. Each trial stores the Keras model it trained on
    the first fold (``model.keras`` in the trial's folder); ``get_best_models()`` loads
    those of the best trials (methods that are not Keras models store none, and
    ``get_best_models()`` says so). For a model trained on all your rows, rebuild it from
    ``get_best_hyperparameters()`` and fit it. ``search(folds, verbose=1)`` prints one
    line per fold and one per trial with scores and seconds, besides KerasTuner's
    per-trial summary.

    Args:
        hypermodel: an :class:`SQNNHyperModel`, or another ``keras_tuner.HyperModel``
            with ``fit_and_score(hp, fold) -> (keras.Model or None, scores)``, where
            scores hold :func:`fairness_score`'s keys, ``protocol() -> dict`` (its fixed
            settings, fingerprinted) and optionally ``saves_models = False`` (it returns
            no models), such as ``keras_sqnn.lab.experiments.method_search.MethodHyperModel``.
        directory: folder of the search; the project is ``directory / project_name``.
        max_trials: number of trials (paper: 200).
        resume: continue the search stored in the project folder. If its ``max_trials``
            trials are all stored as completed or failed, ``search`` returns at once (in
            KerasTuner's distributed mode too, in the chief and the workers alike).
        overwrite: delete the stored search and start over. A worker of KerasTuner's
            distributed mode never deletes it; the flag tells it that the chief starts over,
            so it joins that search rather than skip a finished one stored there.
        fingerprint: JSON-serialisable description of the data and protocol; resuming a
            search stored with another fingerprint is refused.
        seed: seed of the oracle.
        num_initial_points: random trials before the Bayesian ones (KerasTuner's default:
            3 per hyper-parameter).
        label: prefix of the progress lines (default: ``project_name``).
        port_offset: in KerasTuner's distributed mode, the chief serves this search on
            ``KERASTUNER_ORACLE_PORT + port_offset`` and the workers reach it there; give
            each search of a program its own offset, the same in the chief and the workers.
    """

    def __init__(
        self,
        hypermodel: kt.HyperModel,
        *,
        directory: str | Path,
        project_name: str = "search",
        max_trials: int = 200,
        resume: bool = False,
        overwrite: bool = False,
        fingerprint: dict[str, Any] | None = None,
        seed: int = 0,
        num_initial_points: int | None = None,
        label: str | None = None,
        port_offset: int = 0,
    ) -> None:
        if resume and overwrite:
            raise ValueError("Expected at most one of `resume` and `overwrite` to be True.")
        project = Path(directory) / project_name
        stored = project / _FINGERPRINT
        fingerprint = {**(fingerprint or {}), "space": _space_description(hypermodel)}
        # In KerasTuner's distributed mode the chief owns the search directory; the workers
        # share it and follow the chief: a worker's overwrite would delete the chief's search.
        worker = is_worker()
        # A worker told to overwrite does not delete: it joins the search the chief starts
        # over, even where a finished one is stored (the chief deletes it after the workers
        # may have looked).
        self._starts_over = overwrite
        overwrite = overwrite and not worker
        existing = stored.exists() or (project / "oracle.json").exists()
        if not worker and existing and not (resume or overwrite):
            raise FileExistsError(
                f"A search is stored in {project}. Pass resume=True to continue it (its "
                "finished trials are kept) or overwrite=True to start over."
            )
        if resume and stored.exists() and not worker:
            previous = json.loads(stored.read_text())
            if previous != json.loads(json.dumps(fingerprint)):
                raise ValueError(
                    f"The search stored in {project} was made for other data, folds or "
                    f"search space; refusing to resume it. Stored: {previous}. "
                    f"Requested: {fingerprint}. Use overwrite=True or another directory."
                )
        self.port_offset = port_offset
        with oracle_port(port_offset):
            super().__init__(
                hypermodel=hypermodel,
                objective=kt.Objective(OBJECTIVE, direction="max"),
                max_trials=max_trials,
                num_initial_points=num_initial_points,
                seed=seed,
                directory=str(directory),
                project_name=project_name,
                overwrite=overwrite,
            )
        if not worker:
            project.mkdir(parents=True, exist_ok=True)
            stored.write_text(json.dumps(fingerprint, indent=2, sort_keys=True))
        self.label = label or project_name
        self._search_started = time.perf_counter()
        # What a worker saw of the chief's oracle.json (the chief saves it as it serves).
        self._oracle_seen = oracle_saved_at(project)

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        # A finished search runs, serves and contacts nothing. In distributed mode this
        # matters: the chief's server exits once the workers it has heard from are done
        # (it does not store which), and a worker that reaches a finished search after
        # that would wait on a port nobody serves (KerasTuner's client timeout: an hour).
        if not self._starts_over and self._finished():
            self._say_finished(fit_kwargs)
            return
        with oracle_port(self.port_offset):
            if is_worker() and not wait_for_chief(
                self.project_dir,
                self.oracle.max_trials,
                starts_over=self._starts_over,
                oracle_seen=self._oracle_seen,
            ):
                self._say_finished(fit_kwargs)
                return
            super().search(*fit_args, **fit_kwargs)

    def _finished(self) -> bool:
        return stored_search_finished(self.project_dir, self.oracle.max_trials)

    def _say_finished(self, fit_kwargs: dict[str, Any]) -> None:
        if fit_kwargs.get("verbose"):
            print(f"[{self.label}] already finished: its trials are stored", flush=True)

    def reload(self) -> None:
        super().reload()
        # Trials that a distributed chief stored as ongoing although they completed are
        # not run again (see keras_sqnn.distributed_search).
        forget_finished_retries(self.oracle)

    def on_search_begin(self) -> None:
        super().on_search_begin()
        self._search_started = time.perf_counter()

    def run_trial(self, trial: Any, folds: list[Any], verbose: int = 0) -> dict[str, float]:
        hp = trial.hyperparameters
        results = []
        started = time.perf_counter()
        for index, fold in enumerate(folds):
            fold_started = time.perf_counter()
            model, result = self.hypermodel.fit_and_score(hp, fold)
            if index == 0 and model is not None:
                model.save(self._stored_model_path(trial))
            results.append(result)
            if verbose:
                print(
                    f"[{self.label}] trial {trial.trial_id} fold {index + 1}/"
                    f"{len(folds)}: {OBJECTIVE} {result[OBJECTIVE]:.3f} "
                    f"({time.perf_counter() - fold_started:.1f} s)",
                    flush=True,
                )
        means = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
        seconds = time.perf_counter() - started
        if verbose:
            print(
                f"[{self.label}] trial {trial.trial_id}: {OBJECTIVE} {means[OBJECTIVE]:.3f} "
                f"AUC {means['auc']:.3f} GPA {means['gpa']:.3f} AUDC {means['audc']:.3f} "
                f"({seconds:.1f} s, {time.perf_counter() - self._search_started:.1f} s "
                "elapsed in this search)",
                flush=True,
            )
        return {**means, "seconds": seconds}

    def load_model(self, trial: Any) -> keras.Model:
        """The model the trial trained on the first fold (used by ``get_best_models``)."""
        if not getattr(self.hypermodel, "saves_models", True):
            raise ValueError(
                f"The trials of {self.hypermodel.name!r} store no model: it is not a Keras "
                "model. Rebuild it from `get_best_hyperparameters()` with "
                "`tuner.hypermodel.build(hp)` and fit it."
            )
        path = self._stored_model_path(trial)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"Trial {trial.trial_id} stored no model at {path} (it was run by an older "
                "keras_sqnn, or did not finish). Rebuild the model from "
                "`get_best_hyperparameters()` with `tuner.hypermodel.build(hp)` and fit it."
            )
        return keras.models.load_model(path, safe_mode=True)

    def _stored_model_path(self, trial: Any) -> str:
        return os.path.join(self.get_trial_dir(trial.trial_id), "model.keras")


def _space_description(hypermodel: Any) -> dict[str, Any]:
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    return {"hyperparameters": [h.get_config() for h in hp.space], **hypermodel.protocol()}


def indices_digest(*arrays: Any) -> str:
    """A short digest of row-index arrays, to fingerprint the folds of a stored search."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(np.asarray(array, dtype=np.int64)).tobytes())
    return digest.hexdigest()[:16]


def _refit_best(
    hypermodel: SQNNHyperModel, best: kt.HyperParameters, arrays: FoldArrays, *, seed: int
) -> tuple[keras.Model, float]:
    """Build the best setting and fit it on the outer training fold; the model and seconds."""
    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    model = hypermodel.build(best, input_dim=arrays.x_train.shape[1])
    hypermodel.fit(
        best,
        model,
        {"features": arrays.x_train, "sensitive": arrays.s_train},
        arrays.y_train.astype("float32"),
        verbose=0,
    )
    return model, time.perf_counter() - started


def nested_search(
    dataset: Any,
    *,
    directory: str | Path,
    max_trials: int = 200,
    n_outer: int = 3,
    n_inner: int = 3,
    epochs: int = 100,
    estimators: tuple[str, ...] = ESTIMATORS,
    outer_folds: list[int] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    probe_trees: int = 100,
    seed: int = 0,
    verbose: int = 0,
) -> pd.DataFrame:
    """The paper's protocol: tune on the inner folds, evaluate the best on the outer test fold.

    Args:
        dataset: a tabular :class:`keras_sqnn.datasets.Dataset`.
        directory: where the searches are stored (one project per outer fold).
        max_trials: trials per outer fold (paper: 200).
        n_outer, n_inner: fold counts (paper: 3 and 3).
        epochs: training epochs of every fit (paper: 100).
        estimators: MI estimators in the space.
        outer_folds: which outer folds to run (default all).
        resume, overwrite: see :class:`FairnessTuner`.
        probe_trees: trees of the ADRG probe on the outer test fold.
        seed: seed of folds, oracle and models.
        verbose: 1 prints KerasTuner's per-trial summary, one line per inner fold and
            one per outer fold, each with seconds.

    Returns:
        One row per outer fold: the best hyper-parameters, the inner-fold score, and AUC,
        accuracy, GPA, AUDC, ADRG and tradeoff distances on the outer test fold.
    """
    from keras_sqnn.classifiers import representation_codes
    from keras_sqnn.datasets import nested_folds, train_test_arrays

    folds = nested_folds(dataset.y, dataset.s, n_outer=n_outer, n_inner=n_inner, seed=seed)
    rows = []
    search_started = time.perf_counter()
    for index in outer_folds if outer_folds is not None else range(n_outer):
        outer = folds[index]
        inner = [train_test_arrays(dataset, train, test) for train, test in outer.inner]
        hypermodel = SQNNHyperModel(
            inner[0].x_train.shape[1],
            num_groups=dataset.n_groups,
            estimators=estimators,
            epochs=epochs,
            seed=seed,
        )
        tuner = FairnessTuner(
            hypermodel,
            directory=directory,
            project_name=f"{dataset.name}_outer{index}",
            max_trials=max_trials,
            resume=resume,
            overwrite=overwrite,
            seed=seed,
            port_offset=index,
            fingerprint={
                "dataset": dataset.name,
                "rows": len(dataset.y),
                "outer_fold": index,
                "inner_folds": [indices_digest(train, test) for train, test in outer.inner],
            },
        )
        tuner.search(inner, verbose=verbose)
        best_trial = tuner.oracle.get_best_trials(1)[0]
        best = best_trial.hyperparameters
        arrays = train_test_arrays(dataset, outer.train, outer.test)
        model, seconds = _refit_best(hypermodel, best, arrays, seed=seed)
        scores = model.predict(arrays.x_test, batch_size=4096, verbose=0).reshape(-1)
        test = fairness_score(arrays.y_test, scores, sensitive_features=arrays.s_test)
        probe = metrics.representation_probe(
            representation_codes(model, arrays.x_test),
            y=arrays.y_test,
            sensitive_features=arrays.s_test,
            n_estimators=probe_trees,
            random_state=seed,
        )
        rows.append(
            {
                "dataset": dataset.name,
                "outer_fold": index,
                "trials": len(tuner.oracle.trials),
                "inner_score": best_trial.score,
                **{f"hp_{name}": value for name, value in best.values.items()},
                "auc": test["auc"],
                "accuracy": float(np.mean((scores >= 0.5) == arrays.y_test)),
                "gpa": test["gpa"],
                "audc": test["audc"],
                "adrg": probe.adrg,
                "tradeoff_gpa": metrics.tradeoff_distance(test["auc"], test["gpa"]),
                "tradeoff_audc": metrics.tradeoff_distance(test["auc"], test["audc"]),
                "train_seconds": seconds,
            }
        )
        if verbose:
            print(
                f"[{dataset.name}] outer fold {index}: best inner {OBJECTIVE} "
                f"{best_trial.score:.3f} over {len(tuner.oracle.trials)} trials; test AUC "
                f"{test['auc']:.3f} GPA {test['gpa']:.3f} AUDC {test['audc']:.3f} (refit "
                f"{seconds:.1f} s, {time.perf_counter() - search_started:.1f} s elapsed)",
                flush=True,
            )
    return pd.DataFrame(rows)
