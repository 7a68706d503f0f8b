"""Bayesian hyper-parameter search for SQNN classifiers with KerasTuner (the paper's protocol).

The paper tunes each model with Bayesian optimisation over 3 internal folds, maximising
``AUC + (1 - GPA) + (1 - AUDC)``, then evaluates the best setting on 3 external folds.

* :func:`sqnn_space` declares the paper's space (Table 2): gamma (log-uniform 0.001-1),
  batch size, number of hidden layers (1-5), hidden size (10-50), hybrid or fully binary,
  position of the stochastic layer, MI estimator. :class:`SQNNHyperModel` searches it, with
  the learning rate and the epochs fixed.
* :class:`FairnessTuner` is a ``keras_tuner.BayesianOptimization`` whose ``run_trial`` trains
  on every inner fold and returns the mean score as the objective ``fairness_score``
  (direction ``max``), with the mean ``auc``, ``gpa`` and ``audc`` as further metrics. It
  tunes an :class:`SQNNHyperModel`, or any method of ``keras_sqnn.experiments`` through
  ``keras_sqnn.experiments.method_search.MethodHyperModel``. An existing search directory is never
  reloaded silently: pass ``resume=True`` to continue it (finished trials are kept, an
  interrupted trial is run again) or ``overwrite=True`` to start over; resuming a
  directory made for other data or another space is refused. A finished search (its
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd

from keras_sqnn import metrics
from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.distributed_search import (
    forget_finished_retries,
    is_worker,
    oracle_port,
    oracle_saved_at,
    stored_search_finished,
    wait_for_chief,
)
from keras_sqnn.validation import resolve_sensitive

OBJECTIVE = "fairness_score"
ESTIMATORS = ("bernoulli", "joint")
_FINGERPRINT = "keras_sqnn_search.json"


def fairness_score(
    y_true: Any, y_score: Any, s: Any = None, *, sensitive_features: Any = None
) -> dict[str, float]:
    """The paper's model-selection score ``AUC + (1 - GPA) + (1 - AUDC)`` and its parts.

    Args:
        y_true: binary labels in {0, 1}, shape ``(n,)``.
        y_score: predicted probabilities, shape ``(n,)``.
        s: deprecated, the former positional spelling of ``sensitive_features``
            (``fairness_score(y_true, y_score, s)`` still works, with a
            ``DeprecationWarning``, until 0.2).
        sensitive_features: the sensitive attribute S, keyword-only, as for
            :func:`keras_sqnn.metrics.gpa`.

    Returns:
        A dict with the score under :data:`OBJECTIVE` (``"fairness_score"``), and ``auc``,
        ``gpa`` and ``audc``.

    Raises:
        TypeError: when S is given both as ``sensitive_features`` and as ``s``, or not at
            all.

    Example:
        >>> score = fairness_score([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.7],
        ...                        sensitive_features=["a", "a", "b", "b"])
        >>> {name: round(value, 3) for name, value in score.items()}
        {'fairness_score': 2.899, 'auc': 1.0, 'gpa': 0.0, 'audc': 0.101}
    """
    s = resolve_sensitive(
        sensitive_features, s, call="fairness_score(y_true, y_score, sensitive_features=s)"
    )
    auc = metrics.auc(y_true, y_score)
    gpa = metrics.gpa(y_true, y_score, sensitive_features=s)
    audc = metrics.audc(y_true, y_score, sensitive_features=s)
    return {OBJECTIVE: auc + (1.0 - gpa) + (1.0 - audc), "auc": auc, "gpa": gpa, "audc": audc}


def sqnn_space(
    hp: kt.HyperParameters, *, estimators: Sequence[str] | None = None
) -> dict[str, Any]:
    """The paper's Table 2 space of an SQNN classifier: ``SQNNConfig`` fields.

    Args:
        hp: the hyper-parameters, declared on first use (afterwards their values are read).
        estimators: None fixes the MI estimator (the method's); a list of estimators makes
            it a ``Choice`` named ``"estimator"`` (:class:`SQNNHyperModel`'s space).

    Returns:
        ``gamma``, (``estimator``), ``n_hidden``, ``hidden_size``, ``hybrid``,
        ``stochastic_position`` (at most ``n_hidden - 1``) and ``batch_size``.

    Example:
        >>> import keras_tuner as kt
        >>> sorted(sqnn_space(kt.HyperParameters()))  # doctest: +NORMALIZE_WHITESPACE
        ['batch_size', 'gamma', 'hidden_size', 'hybrid', 'n_hidden',
         'stochastic_position']
    """
    n_hidden = hp.Int("n_hidden", 1, 5, default=3)
    position = hp.Int("stochastic_position", 0, 4, default=4)
    values: dict[str, Any] = {"gamma": hp.Float("gamma", 1e-3, 1.0, sampling="log", default=0.05)}
    if estimators is not None:
        values["estimator"] = hp.Choice("estimator", list(estimators))
    return {
        **values,
        "n_hidden": n_hidden,
        "hidden_size": hp.Int("hidden_size", 10, 50, default=30),
        "hybrid": hp.Boolean("hybrid", default=True),
        # Positions past the last hidden layer mean the last one.
        "stochastic_position": min(position, n_hidden - 1),
        "batch_size": declare_batch_size(hp),
    }


def declare_batch_size(hp: kt.HyperParameters) -> int:
    """Declare (on first use) and read ``batch_size``: an integer in 64..256, default 128.

    The batch size of the paper's Table 2, searched alike for the SQNNs and the baselines
    (:mod:`keras_sqnn.experiments.spaces`).
    """
    return int(hp.Int("batch_size", 64, 256, default=128))


class SQNNHyperModel(kt.HyperModel):
    """The paper's search space for SQNN binary classifiers.

    Args:
        input_dim: number of input features (used to declare the space; each fold builds
            its model for its own preprocessed width).
        num_groups: number of values of S.
        estimators: MI estimators to choose from (``"bernoulli"``, ``"joint"``).
        learning_rate: fixed Adam learning rate (paper: 1e-4).
        epochs: fixed number of epochs (paper: 100).
        seed: seed of the weights and of the stochastic layers.

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> config = SQNNHyperModel(10).config_from(hp)
        >>> config.estimator in ESTIMATORS
        True
    """

    saves_models = True

    def __init__(
        self,
        input_dim: int,
        *,
        num_groups: int = 2,
        estimators: tuple[str, ...] = ESTIMATORS,
        learning_rate: float = 1e-4,
        epochs: int = 100,
        seed: int = 0,
        name: str = "sqnn",
    ) -> None:
        unknown = set(estimators) - set(ESTIMATORS)
        if not estimators or unknown:
            raise ValueError(
                f"Expected `estimators` drawn from {ESTIMATORS}. Received: estimators={estimators}"
            )
        if epochs < 1:
            raise ValueError(f"Expected `epochs` >= 1. Received: epochs={epochs}")
        super().__init__(name=name)
        self.input_dim = input_dim
        self.num_groups = num_groups
        self.estimators = tuple(estimators)
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.seed = seed

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        self.config_from(hp)

    def config_from(self, hp: kt.HyperParameters) -> SQNNConfig:
        """Declare (on first use) and read the hyper-parameters as an :class:`SQNNConfig`.

        The space is :func:`sqnn_space`, with the estimator a choice among ``estimators``.
        """
        values = sqnn_space(hp, estimators=self.estimators)
        return SQNNConfig(**values, learning_rate=self.learning_rate, epochs=self.epochs)

    def protocol(self) -> dict[str, Any]:
        """The fixed settings of every trial, part of a stored search's fingerprint."""
        return {
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "estimators": list(self.estimators),
            "seed": self.seed,
        }

    def build(self, hp: kt.HyperParameters, input_dim: int | None = None) -> keras.Model:
        return build_sqnn_classifier(
            input_dim or self.input_dim,
            self.config_from(hp),
            num_groups=self.num_groups,
            seed=self.seed,
        )

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        """``model.fit`` with the trial's ``batch_size`` and, unless given, ``epochs``.

        KerasTuner's tuners call this for each trial (``HyperModel.fit``), so a stock
        tuner, e.g. ``kt.RandomSearch(SQNNHyperModel(...), ...)``, trains with the batch
        size it chose. The batch size is a hyper-parameter: passing ``batch_size`` is an
        error.
        """
        if "batch_size" in kwargs:
            raise TypeError(
                "Expected no `batch_size`: SQNNHyperModel.fit uses the trial's `batch_size` "
                f"hyper-parameter. Received: batch_size={kwargs['batch_size']!r}"
            )
        kwargs.setdefault("epochs", self.epochs)
        return model.fit(*args, batch_size=self.config_from(hp).batch_size, **kwargs)

    def fit_and_score(self, hp: kt.HyperParameters, fold: Any) -> tuple[keras.Model, dict]:
        """Train on a fold's training rows; :func:`fairness_score` on its test rows."""
        keras.utils.set_random_seed(self.seed)
        model = self.build(hp, input_dim=fold.x_train.shape[1])
        self.fit(
            hp,
            model,
            {"features": fold.x_train, "sensitive": fold.s_train},
            np.asarray(fold.y_train, "float32"),
            verbose=0,
        )
        scores = model.predict(fold.x_test, batch_size=4096, verbose=0).reshape(-1)
        return model, fairness_score(fold.y_test, scores, sensitive_features=fold.s_test)


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
            no models), such as ``keras_sqnn.experiments.method_search.MethodHyperModel``.
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
        seconds = time.perf_counter() - started
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
