"""The main job of ``keras-sqnn train``: train the paper's SQNN, evaluate it, export it.

Trains the BinaryBernoulli (or BinaryMI) classifier with the paper's Table 2
hyper-parameters, prints AUC, accuracy, GPA, AUDC, a random-forest probe of the
representation and ``I(T; S)``, and writes ``<out>/<name>/`` (the ``.keras`` model, a
SavedModel serving raw columns, ``preprocessor.json``, ``metrics.json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

# Test rows and codes per row behind the summary's I(T; S) estimate.
INFORMATION_ROWS = 2000
INFORMATION_SAMPLES = 10


def _split(dataset: Any, seed: int) -> Any:
    from keras_sqnn.datasets import nested_folds, train_test_arrays

    if dataset.is_test is not None:
        return train_test_arrays(dataset), "official test split"
    fold = nested_folds(dataset.y, dataset.s, seed=seed)[0]
    return train_test_arrays(dataset, fold.train, fold.test), "outer fold 1 of 3"


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate and export; returns the metrics it printed."""
    import keras
    import numpy as np

    from keras_sqnn import datasets, metrics
    from keras_sqnn.classifiers import build_sqnn_classifier, representation_codes
    from keras_sqnn.experiments import PAPER_HYPERPARAMETERS
    from keras_sqnn.export import atomic_save

    keras.utils.set_random_seed(args.seed)
    dataset = getattr(datasets, f"fetch_{args.dataset}")()
    arrays, split = _split(dataset, args.seed)
    config = PAPER_HYPERPARAMETERS[(args.dataset, args.estimator)]
    if args.budget == "small":
        config = config.replace(epochs=10)
    if args.epochs is not None:
        config = config.replace(epochs=args.epochs)
    if args.gamma is not None:
        config = config.replace(gamma=args.gamma)
    print(
        f"[keras-sqnn] {args.dataset}: {len(arrays.y_train)} train / {len(arrays.y_test)} test "
        f"rows ({split}), {arrays.x_train.shape[1]} features, S = {dataset.sensitive_name}"
    )
    print(f"[keras-sqnn] {config}")
    model = build_sqnn_classifier(
        arrays.x_train.shape[1], config, num_groups=dataset.n_groups, seed=args.seed
    )
    started = time.perf_counter()
    model.fit(
        {"features": arrays.x_train, "sensitive": arrays.s_train},
        arrays.y_train.astype("float32"),
        batch_size=config.batch_size,
        epochs=config.epochs,
        verbose=args.verbose,
    )
    seconds = time.perf_counter() - started
    scores = model.predict(arrays.x_test, batch_size=4096, verbose=0).reshape(-1)
    y, s = arrays.y_test, arrays.s_test
    codes = representation_codes(model, arrays.x_test)
    probe = metrics.representation_probe(
        codes, s, y, n_estimators=args.probe_trees, random_state=args.seed
    )
    results = {
        "dataset": args.dataset,
        "estimator": args.estimator,
        "gamma": config.gamma,
        "epochs": config.epochs,
        "train_seconds": round(seconds, 1),
        "auc": metrics.auc(y, scores),
        "accuracy": float(np.mean((scores >= 0.5) == y)),
        "gpa": metrics.gpa(y, scores, sensitive_features=s),
        "audc": metrics.audc(y, scores, sensitive_features=s),
        "adrg": probe.adrg,
        "probe_auc_s": probe.probe_auc_s,
        "probe_auc_y": probe.probe_auc_y,
        **information_summary(model, arrays.x_test, s, seed=args.seed),
    }
    name = args.name or args.dataset
    destination = Path(args.out) / name
    results["saved_to"] = str(destination)
    atomic_save(
        model,
        destination,
        preprocessor=arrays.preprocessor,
        files={"metrics.json": json.dumps(results, indent=2) + "\n"},
    )
    print(json.dumps(results, indent=2))
    return results


def information_summary(
    model: Any,
    x: np.ndarray,
    s: np.ndarray,
    *,
    rows: int = INFORMATION_ROWS,
    n_samples: int = INFORMATION_SAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """``I(T; S)`` of the representation layer, in bits, for ``train``'s summary.

    A plug-in histogram of one code per row saturates at ``H(S)`` once almost every code
    is unique (20-50 units), whatever T holds. This reports instead, from
    :func:`keras_sqnn.metrics.information_report` on ``rows`` random test rows with
    ``n_samples`` codes drawn per row: the mixture estimate of ``I(T; S)`` (0 when the
    layer's Bernoulli parameters do not depend on the row, ``H(S)`` when T copies S; see
    that function's caveats for wide layers with sharp parameters), the sum of per-unit
    ``I(T_i; S)`` (the BinaryBernoulli term) and ``H(S)`` of those rows, for scale.
    """
    from keras_sqnn import metrics

    picked = np.sort(
        np.random.default_rng(seed).choice(len(s), size=min(rows, len(s)), replace=False)
    )
    report = metrics.information_report(
        model, x[picked], s=s[picked], n_samples=n_samples, layers=["representation"], seed=seed
    ).iloc[0]
    return {
        "mi_t_s_mixture_bits": float(report["mi_ts_mixture"]),
        "sum_unit_mi_t_s_bits": float(report["sum_unit_mi_ts"]),
        "entropy_s_bits": float(report["entropy_s"]),
        "mi_t_s_rows": int(report["n"]),
        "mi_t_s_samples_per_row": int(report["n_samples"]),
    }
