"""A method's Bayesian search on the inner folds of one outer fold, and its budgets.

:func:`search_fold` runs, or continues, the search of one method
(:class:`MethodHyperModel`, its space from :mod:`keras_sqnn.lab.experiments.spaces`) on the
inner folds of one outer fold with :class:`keras_sqnn.tuning.FairnessTuner`;
:func:`trial_records` reads its finished trials for :mod:`keras_sqnn.lab.experiments.selection`.
:func:`keras_sqnn.lab.experiments.tuned.tune_method` runs it for every outer fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from sklearn.model_selection import train_test_split

from keras_sqnn.datasets import Dataset, FoldArrays, OuterFold, train_test_arrays
from keras_sqnn.datasets.folds import strata
from keras_sqnn.lab.experiments import spaces
from keras_sqnn.lab.experiments.builders import Method
from keras_sqnn.lab.experiments.selection import TrialRecord
from keras_sqnn.tuning import OBJECTIVE, FairnessTuner, fairness_score, indices_digest
from keras_sqnn.validation import check_positive_int


@dataclass(frozen=True)
class TuningBudget:
    """Search and training settings of :func:`tune_method`.

    Attributes:
        name: written in the CSV's ``budget`` column and in the searches' path.
        trials: trials per (method, outer fold).
        epochs: training epochs of every neural fit (trials and refits).
        learning_rate: Adam's learning rate of the SQNNs (the baselines search theirs).
        n_inner_train: inner training folds larger than this are replaced by a stratified
            (by y and s) subsample of this many rows; None keeps them whole.
        probe_trees: trees of the representation probes on the outer test folds.
    """

    name: str
    trials: int
    epochs: int
    learning_rate: float
    n_inner_train: int | None
    probe_trees: int = 1000

    def __post_init__(self) -> None:
        # KerasTuner reads max_trials=0 as "no limit"; a zero-tree probe fails after the search.
        for name in ("trials", "epochs", "probe_trees"):
            check_positive_int(getattr(self, name), name)
        if self.n_inner_train is not None:
            check_positive_int(self.n_inner_train, "n_inner_train")


TUNING_BUDGETS = {
    # Seconds per fit of each method's default trial (10 epochs, a 4,000-row inner training
    # subsample, the full inner validation fold), measured on this 2-vCPU machine while
    # another training job used about 1.4 cores (so pessimistic), in the order
    # binary_bernoulli, binary_mi, vanilla, adv_cls, vfae, fairlearn_eg, fairlearn_eg_eo,
    # fairlearn_adv: Adult 4.0 3.1 2.7 2.8 4.6 10.2 13.6 13.5 (54.5 s for all eight, so one
    # trial of each on the 3 inner folds of an outer fold takes 163 s, and on all 3 outer x
    # 3 inner folds 490 s), Banks 2.9 3.1 2.2 2.6 4.1 11.5 6.5 12.0 (44.9 s; 404 s), COMPAS
    # 3.1 3.1 2.4 2.4 5.2 2.9 3.9 7.8 (30.8 s; 277 s). On Adult an outer fold's refits take
    # about 210 s (fairlearn_adv 92 s, fairlearn_eg 28 s, vanilla 7 s) and its 1,000-tree
    # probes 45-67 s per method with a representation (about 330 s). Seven trials: about
    # 7 x 490 s + 3 x 540 s = 84 minutes on Adult, 75 on Banks, 35 on COMPAS.
    "cpu": TuningBudget("cpu", trials=7, epochs=10, learning_rate=1e-3, n_inner_train=4000),
    # The paper: 200 trials of 100 epochs, the SQNNs at Adam 1e-4, whole inner folds.
    "paper": TuningBudget("paper", trials=200, epochs=100, learning_rate=1e-4, n_inner_train=None),
}


def keras_model(method: Any) -> keras.Model | None:
    """The Keras model a fitted method predicts with, or None (fairlearn's reductions)."""
    for attribute in ("predictor", "model"):
        model = getattr(method, attribute, None)
        if isinstance(model, keras.Model):
            return model
    return None


class MethodHyperModel(kt.HyperModel):
    """A method's search space, for :class:`keras_sqnn.tuning.FairnessTuner`.

    ``build(hp)`` returns the trial's unfitted :class:`Method`; ``fit_and_score(hp, fold)``
    fits it on a fold's training rows and returns its Keras model (None for fairlearn's
    reductions, whose trials store no model) and its :func:`fairness_score` on the fold's
    test rows.

    Args:
        method: a method of :data:`keras_sqnn.lab.experiments.spaces.SPACES`.
        epochs: training epochs of every fit.
        learning_rate: Adam's learning rate where the space does not search it (SQNNs).
        num_groups: number of groups of S.
        seed: seed of every fit.

    Example:
        >>> hypermodel = MethodHyperModel("fairlearn_eg", epochs=1)
        >>> hypermodel.build(kt.HyperParameters()).param
        0.01
    """

    def __init__(
        self,
        method: str,
        *,
        epochs: int,
        learning_rate: float = 1e-3,
        num_groups: int = 2,
        seed: int = 0,
    ) -> None:
        spaces.declare(method, kt.HyperParameters())  # Fails early on an unknown method.
        super().__init__(name=method)
        self.method = method
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.num_groups = num_groups
        self.seed = seed
        self.saves_models = method not in ("fairlearn_eg", "fairlearn_eg_eo")

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        spaces.declare(self.method, hp)

    def build(self, hp: Any) -> Method:
        return spaces.method_from(
            self.method,
            hp,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            num_groups=self.num_groups,
            seed=self.seed,
        )

    def fit_and_score(
        self, hp: kt.HyperParameters, fold: Any
    ) -> tuple[keras.Model | None, dict[str, float]]:
        keras.backend.clear_session()
        method = self.build(hp)
        method.fit(fold.x_train, fold.y_train, fold.s_train)
        scores = method.predict_proba(fold.x_test, fold.s_test)
        return keras_model(method), fairness_score(
            fold.y_test, scores, sensitive_features=fold.s_test
        )

    def protocol(self) -> dict[str, Any]:
        """The fixed settings of every trial, part of a stored search's fingerprint."""
        return {
            "method": self.method,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
        }


def subsample(rows: np.ndarray, y: Any, s: Any, size: int | None, *, seed: int) -> np.ndarray:
    """``size`` of ``rows``, stratified on ``(y, s)``; all of them if there are not more.

    Example:
        >>> y, s = np.repeat([0, 1], 50), np.tile([0, 1], 50)
        >>> kept = subsample(np.arange(100), y, s, 20, seed=0)
        >>> len(kept), int(y[kept].sum()), int(s[kept].sum())
        (20, 10, 10)
    """
    rows = np.asarray(rows)
    if size is None or len(rows) <= size:
        return rows
    y, s = np.asarray(y), np.asarray(s)
    kept, _ = train_test_split(
        rows, train_size=size, stratify=strata(y[rows], s[rows]), random_state=seed
    )
    return np.sort(kept)


def inner_arrays(
    dataset: Dataset, outer: OuterFold, *, n_inner_train: int | None, seed: int
) -> tuple[list[FoldArrays], list[str]]:
    """The encoded inner folds of an outer fold (training rows subsampled) and their digests."""
    arrays, digests = [], []
    for train, validation in outer.inner:
        train = subsample(train, dataset.y, dataset.s, n_inner_train, seed=seed)
        arrays.append(train_test_arrays(dataset, train, validation))
        digests.append(indices_digest(train, validation))
    return arrays, digests


def trial_records(tuner: Any, method: str) -> list[TrialRecord]:
    """The finished trials of a search, in trial order, with the method's settings."""
    records = []
    for trial in sorted(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id)):
        if trial.status != "COMPLETED":
            continue
        names = (OBJECTIVE, "auc", "gpa", "audc", "seconds")
        metrics = {n: trial.metrics.get_last_value(n) for n in names if trial.metrics.exists(n)}
        values = spaces.declare(method, trial.hyperparameters.copy())
        records.append(TrialRecord(values, metrics, trial.trial_id))
    return records


def search_fold(
    dataset: Dataset,
    method: str,
    index: int,
    folds: list[FoldArrays],
    digests: list[str],
    *,
    budget: TuningBudget,
    searches: str | Path,
    resume: bool,
    seed: int,
    verbose: int,
    port_offset: int = 0,
) -> FairnessTuner:
    """Run, or continue, ``method``'s search on the inner folds of outer fold ``index``.

    The search is stored in ``<searches>/<dataset>/<budget name>/<method>/outer<index>``
    (``outer<index>_seed<seed>`` for a seed other than 0: the folds and fits differ),
    fingerprinted with the dataset, the outer fold, the inner folds' rows (``digests``),
    the subsample size and the method's fixed settings.

    Args:
        dataset: the dataset.
        method: a method of :data:`keras_sqnn.lab.experiments.spaces.SPACES`.
        index: the outer fold.
        folds: its encoded inner folds (:func:`inner_arrays`).
        digests: their digests (:func:`inner_arrays`).
        budget: trials, epochs, learning rate and subsample size.
        searches: the folder of the searches.
        resume: continue a stored search; False starts it over. A worker of KerasTuner's
            distributed mode never deletes the search (the chief owns it); with False it
            joins the search the chief starts over instead of skipping a finished one.
        seed: seed of the oracle and of every fit.
        verbose: see :meth:`keras_sqnn.tuning.FairnessTuner.search`.
        port_offset: in KerasTuner's distributed mode, the search is served on
            ``KERASTUNER_ORACLE_PORT + port_offset``.

    Returns:
        The tuner, its search finished.
    """
    hypermodel = MethodHyperModel(
        method,
        epochs=budget.epochs,
        learning_rate=budget.learning_rate,
        num_groups=dataset.n_groups,
        seed=seed,
    )
    tuner = FairnessTuner(
        hypermodel,
        directory=Path(searches) / dataset.name / budget.name / method,
        project_name=f"outer{index}" if seed == 0 else f"outer{index}_seed{seed}",
        max_trials=budget.trials,
        resume=resume,
        overwrite=not resume,
        seed=seed,
        port_offset=port_offset,
        label=f"{dataset.name} {method} outer{index}",
        fingerprint={
            "dataset": dataset.name,
            "rows": len(dataset.y),
            "outer_fold": index,
            "inner_folds": digests,
            "n_inner_train": budget.n_inner_train,
        },
    )
    tuner.search(folds, verbose=verbose)
    return tuner
