"""Accurate and certified: sweep SQNN settings, select on validation, certify on the test split.

Each setting (code width, gamma, sharpness) trains one network ``Dense(64, relu) ->
Dense(64, relu) -> SharpStochasticBinaryDense(units, joint MI, gamma, sharpness) ->
Dense(32, relu) -> Dense(1, sigmoid)`` on
the training rows minus a stratified validation split (20 %), with the paper's objective
``gamma * I(T; S) + (1 - gamma) * BCE``; its decisions are served from one sampled code and
from the thresholded code (:func:`keras_sqnn.export.with_inference`). For each it records,
on the validation rows and on the test rows, the accuracy of the decisions, their measured
demographic-parity gap, and the certificate (:func:`keras_sqnn.metrics.certify`, 95 %).
References: the constant predictor (certified gap 0) and fairlearn's
ExponentiatedGradient (DemographicParity, logistic base; uncertified).

Selection (:func:`select_certified`) never reads the test split: for a target bound B it
keeps the decisions whose *predicted* test bound (the validation plug-in TV plus the test
split's concentration term, which depends only on its group sizes) is at most B, and takes
the most accurate on validation.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_sqnn.layers import StochasticBinaryDense

CSV_COLUMNS = (
    "dataset",
    "method",
    "units",
    "gamma",
    "sharpness",
    "inference",
    "seed",
    "epochs",
    "val_accuracy",
    "val_dp_gap",
    "val_plugin_tv",
    "val_bound",
    "test_accuracy",
    "test_dp_gap",
    "test_plugin_tv",
    "test_radius",
    "test_bound",
    "train_seconds",
)
UNITS = (1, 4, 8)
GAMMAS = (0.0, 0.05, 0.1, 0.2, 0.4)
SHARPNESS = (0.0, 0.1)
EG_EPSILONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03)
TARGETS = {"adult": (0.05,), "compas": (0.10, 0.20)}
CONFIDENCE = 0.95
SQNN_METHODS = ("sqnn", "sqnn_cells")
"""``sqnn``: decisions of the trained head; ``sqnn_cells``: of :func:`cell_decoder`."""


def splits(dataset_name: str, seed: int = 0) -> tuple[Any, Any]:
    """``(validation, test)`` arrays, both fitted on the same rows (``x_train``): 80 % of the
    training rows; validation holds the other 20 %.

    Adult's test rows are its official test split; COMPAS's are outer fold 1 of
    :func:`keras_sqnn.datasets.nested_folds`.
    """
    from sklearn.model_selection import train_test_split

    from keras_sqnn import datasets
    from keras_sqnn.datasets import nested_folds, train_test_arrays
    from keras_sqnn.datasets.folds import strata

    dataset = datasets.load(dataset_name)
    if dataset.is_test is not None:
        train_rows = np.flatnonzero(~np.asarray(dataset.is_test))
        test_rows = np.flatnonzero(np.asarray(dataset.is_test))
    else:
        fold = nested_folds(dataset.y, dataset.s, seed=seed)[0]
        train_rows, test_rows = np.asarray(fold.train), np.asarray(fold.test)
    y, s = np.asarray(dataset.y), np.asarray(dataset.s)
    fit_rows, val_rows = train_test_split(
        train_rows,
        test_size=0.2,
        random_state=seed,
        stratify=strata(y[train_rows], s[train_rows]),
    )
    validation = train_test_arrays(dataset, fit_rows, val_rows)
    test = train_test_arrays(dataset, fit_rows, test_rows)
    return validation, test


@keras.saving.register_keras_serializable(package="keras_sqnn")
class SharpStochasticBinaryDense(StochasticBinaryDense):
    """A ``StochasticBinaryDense`` that also penalises how random its code is.

    In training it adds ``sharpness * mean_i H_b(theta_i)`` (the mean binary entropy of the
    units, in bits) to the loss, pushing theta towards 0 or 1 where the task allows: the
    sampled code then nearly equals the thresholded one, the head sees nearly deterministic
    codes, and the certificate of the served code is close to what the MI measured.
    """

    def __init__(self, units: int, *, sharpness: float = 0.0, **kwargs: Any) -> None:
        if isinstance(sharpness, bool) or not isinstance(sharpness, (int, float)) or sharpness < 0:
            raise ValueError(f"Expected `sharpness` >= 0. Received: sharpness={sharpness!r}")
        super().__init__(units, **kwargs)
        self.sharpness = float(sharpness)

    def call(
        self, inputs: Any, sensitive: Any = None, labels: Any = None, training: Any = None
    ) -> Any:
        if training and self.sharpness > 0:
            theta = keras.ops.clip(self.probabilities(inputs), 1e-7, 1 - 1e-7)
            bits = -(theta * keras.ops.log(theta) + (1 - theta) * keras.ops.log(1 - theta))
            self.add_loss(self.sharpness * keras.ops.mean(bits) / math.log(2))
        return super().call(inputs, sensitive=sensitive, labels=labels, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sharpness": self.sharpness}


def build_model(
    inputs: int, units: int, gamma: float, seed: int, num_groups: int = 2, sharpness: float = 0.0
) -> Any:
    """The compiled network of one setting (see the module docstring)."""
    from keras_sqnn.losses import TradeoffLoss
    from keras_sqnn.models import SensitiveSequential

    keras.utils.set_random_seed(seed)
    model = SensitiveSequential(input_shape=(inputs,), name=f"certified_{units}")
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(
        SharpStochasticBinaryDense(
            units,
            sharpness=sharpness,
            mi_estimator="joint",
            gamma=gamma,
            num_groups=num_groups,
            seed=seed + 1000,
            name="code",
        )
    )
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile(keras.optimizers.Adam(1e-3), TradeoffLoss("binary_crossentropy", gamma=gamma))
    return model


def dp_gap(decisions: np.ndarray, s: np.ndarray) -> float:
    rates = [float(np.mean(decisions[s == group])) for group in np.unique(s)]
    return max(rates) - min(rates)


def cell_decoder(theta: np.ndarray, y: np.ndarray, inference: str) -> np.ndarray:
    """The most accurate classifier of the code on the rows ``(theta, y)``: one decision per
    code value (``2**units`` cells), ``P(y = 1 | t) > 1/2`` under the code's exact
    distribution (``"sample"``) or the thresholded code's cells (``"threshold"``).

    Any classifier of the code is covered by its certificate, so replacing the trained head
    by this table changes the accuracy, never the bound.
    """
    from keras_sqnn.metrics.certificate import exact_code_distributions

    by_class = np.stack([y == 0, y == 1]).astype(np.float64)
    if inference == "sample":
        weights = exact_code_distributions(theta, by_class)
    else:
        cells = _cells(theta >= 0.5)
        weights = np.stack(
            [np.bincount(cells, weights=row, minlength=2 ** theta.shape[1]) for row in by_class]
        )
    return weights[1] > weights[0]


def _cells(codes: np.ndarray) -> np.ndarray:
    return codes.astype(np.int64) @ (1 << np.arange(codes.shape[1]))


def _decision_rows(
    model: Any, validation: Any, test: Any, seed: int, cells: bool = False
) -> list[dict[str, Any]]:
    from keras_sqnn.export import with_inference
    from keras_sqnn.metrics import certify_probabilities, layer_probabilities

    splits = {"val": validation, "test": test}
    # The code's theta per split, computed once: both modes and the certificates read it.
    thetas = {split: layer_probabilities(model, a.x_test, "code") for split, a in splits.items()}
    if cells:
        train_theta = layer_probabilities(model, validation.x_train, "code")
    rng = np.random.default_rng(seed)
    rows = []
    for mode in ("sample", "threshold"):
        if cells:
            table = cell_decoder(train_theta, validation.y_train, mode)
        else:
            served = with_inference(model, mode)
        row: dict[str, Any] = {"inference": mode}
        for split, arrays in splits.items():
            x, y, s, theta = arrays.x_test, arrays.y_test, arrays.s_test, thetas[split]
            if cells:
                codes = rng.random(theta.shape) < theta if mode == "sample" else theta >= 0.5
                decisions = table[_cells(codes)]
            else:
                decisions = served.predict(x, batch_size=4096, verbose=0).reshape(-1) >= 0.5
            certificate = certify_probabilities(
                theta, sensitive_features=s, inference=mode, confidence=CONFIDENCE, seed=seed
            )
            row[f"{split}_accuracy"] = float(np.mean(decisions == y))
            row[f"{split}_dp_gap"] = dp_gap(decisions, s)
            row[f"{split}_plugin_tv"] = certificate.plugin_tv
            row[f"{split}_bound"] = certificate.bound
            if split == "test":
                row["test_radius"] = certificate.pairs[0]["radius"]
        rows.append(row)
    return rows


def _reference_rows(validation: Any, test: Any, seed: int) -> list[dict[str, Any]]:
    """The constant predictor and ExponentiatedGradient at each epsilon."""
    from keras_sqnn.lab.baselines.fairlearn_baselines import ExponentiatedGradientClassifier

    majority = int(np.mean(validation.y_train) >= 0.5)
    rows = [
        {
            "method": "constant",
            "val_accuracy": float(np.mean(validation.y_test == majority)),
            "test_accuracy": float(np.mean(test.y_test == majority)),
            "val_dp_gap": 0.0,
            "test_dp_gap": 0.0,
            "val_bound": 0.0,
            "test_bound": 0.0,
        }
    ]
    for epsilon in EG_EPSILONS:
        model = ExponentiatedGradientClassifier(epsilon, seed=seed)
        model.fit(validation.x_train, validation.y_train, validation.s_train)
        row: dict[str, Any] = {"method": "fairlearn_eg", "gamma": epsilon}
        for split, arrays in (("val", validation), ("test", test)):
            decisions = model.predict_proba(arrays.x_test) >= 0.5
            row[f"{split}_accuracy"] = float(np.mean(decisions == arrays.y_test))
            row[f"{split}_dp_gap"] = dp_gap(decisions, arrays.s_test)
        rows.append(row)
    return rows


def _done(path: Path) -> set[tuple[str, ...]]:
    """The settings in the CSV: (method, units, gamma, sharpness, epochs) as written."""
    if not path.exists():
        return set()
    with path.open() as handle:
        return {
            (r["method"], r["units"], r["gamma"], r["sharpness"], r["epochs"])
            for r in csv.DictReader(handle)
        }


def _append(path: Path, rows: list[dict[str, Any]]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, restval="")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def run_certified(
    dataset: str,
    *,
    units: Sequence[int] = UNITS,
    gammas: Sequence[float] = GAMMAS,
    sharpness: Sequence[float] = SHARPNESS,
    epochs: int = 15,
    cells: bool = False,
    seed: int = 0,
    out: str | Path = "docs/results",
    verbose: int = 0,
) -> Path:
    """Run the sweep into ``<out>/certified_<dataset>.csv``, one setting at a time.

    With ``cells``, the decisions are those of :func:`cell_decoder` fitted on the training
    rows (method ``sqnn_cells``) instead of the trained head's. A rerun skips the settings
    already in the CSV (resumable). Returns the CSV's path.
    """
    path = Path(out) / f"certified_{dataset}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    validation, test = splits(dataset, seed)
    common = {"dataset": dataset, "seed": seed}
    if ("constant", "", "", "", "") not in _done(path):
        _append(
            path,
            [
                {**common, **row, "units": "", "gamma": row.get("gamma", "")}
                for row in _reference_rows(validation, test, seed)
            ],
        )
    method = "sqnn_cells" if cells else "sqnn"
    settings = [(w, float(g), float(b)) for w in units for g in gammas for b in sharpness]
    for width, gamma, beta in settings:
        if (method, str(width), str(gamma), str(beta), str(epochs)) in _done(path):
            continue
        model = build_model(
            validation.x_train.shape[1],
            width,
            gamma,
            seed,
            num_groups=int(validation.s_train.max()) + 1,
            sharpness=beta,
        )
        started = time.perf_counter()
        model.fit(
            {"features": validation.x_train, "sensitive": validation.s_train},
            validation.y_train.astype("float32"),
            batch_size=256,
            epochs=epochs,
            verbose=verbose,
        )
        seconds = round(time.perf_counter() - started, 1)
        rows = _decision_rows(model, validation, test, seed, cells=cells)
        setting = {"method": method, "units": width, "gamma": gamma, "sharpness": beta}
        _append(
            path,
            [
                {**common, **setting, **row, "epochs": epochs, "train_seconds": seconds}
                for row in rows
            ],
        )
        print(
            f"[certify] {dataset} units={width} gamma={gamma} sharpness={beta}: "
            + "; ".join(
                f"{row['inference']} val acc {row['val_accuracy']:.3f} bound {row['val_bound']:.3f}"
                for row in rows
            )
            + f" ({seconds} s)",
            flush=True,
        )
    return path
