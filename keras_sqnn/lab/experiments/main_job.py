"""The main job of ``keras-sqnn train``: train the paper's SQNN, evaluate it, export it.

Trains the BinaryBernoulli (or BinaryMI) classifier with the paper's Table 2
hyper-parameters, prints AUC, accuracy, GPA, AUDC, a random-forest probe of the
representation and ``I(T; S)``, and writes ``<out>/<name>/`` (the ``.keras`` model, a
SavedModel serving raw columns, ``preprocessor.json``, ``metrics.json``).
"""

from __future__ import annotations

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


def train(
    dataset: str = "adult",
    *,
    estimator: str = "bernoulli",
    budget: str = "paper",
    epochs: int | None = None,
    gamma: float | None = None,
    seed: int = 0,
    out: str | Path = "saved_models",
    name: str | None = None,
    probe_trees: int = 200,
    verbose: int = 1,
) -> dict[str, Any]:
    """Train, evaluate and export the paper's SQNN; returns the metrics it printed.

    Args:
        dataset: ``"adult"``, ``"compas"`` or ``"banks"``.
        estimator: ``"bernoulli"`` (BinaryBernoulli) or ``"joint"`` (BinaryMI).
        budget: ``"paper"`` (Table 2, 100 epochs) or ``"small"`` (10 epochs).
        epochs, gamma: overrides of the Table 2 setting.
        seed: seeds the weights, the samples and (without an official test split) the fold.
        out: the folder that receives ``<name>/``.
        name: the model folder's name (default: the dataset's).
        probe_trees: trees of the random-forest probe.
        verbose: ``fit``'s verbosity.

    Returns:
        The metrics, also written to ``<out>/<name>/metrics.json``.
    """
    import keras

    from keras_sqnn import datasets, metrics
    from keras_sqnn.classifiers import build_sqnn_classifier, representation_codes
    from keras_sqnn.export import atomic_save
    from keras_sqnn.lab.experiments import PAPER_HYPERPARAMETERS

    if (dataset, estimator) not in PAPER_HYPERPARAMETERS:
        raise ValueError(
            "Expected `dataset` in ('adult', 'banks', 'compas') and `estimator` in "
            f"('bernoulli', 'joint'). Received: dataset={dataset!r}, estimator={estimator!r}"
        )
    if budget not in ("paper", "small"):
        raise ValueError(f"Expected `budget` 'paper' or 'small'. Received: budget={budget!r}")
    keras.utils.set_random_seed(seed)
    data = datasets.load(dataset)
    arrays, split = _split(data, seed)
    config = PAPER_HYPERPARAMETERS[(dataset, estimator)]
    if budget == "small":
        config = config.replace(epochs=10)
    if epochs is not None:
        config = config.replace(epochs=epochs)
    if gamma is not None:
        config = config.replace(gamma=gamma)
    print(
        f"[keras-sqnn] {dataset}: {len(arrays.y_train)} train / {len(arrays.y_test)} test "
        f"rows ({split}), {arrays.x_train.shape[1]} features, S = {data.sensitive_name}"
    )
    print(f"[keras-sqnn] {config}")
    model = build_sqnn_classifier(
        arrays.x_train.shape[1], config, num_groups=data.n_groups, seed=seed
    )
    started = time.perf_counter()
    model.fit(
        {"features": arrays.x_train, "sensitive": arrays.s_train},
        arrays.y_train.astype("float32"),
        batch_size=config.batch_size,
        epochs=config.epochs,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    scores = model.predict(arrays.x_test, batch_size=4096, verbose=0).reshape(-1)
    y, s = arrays.y_test, arrays.s_test
    codes = representation_codes(model, arrays.x_test)
    probe = metrics.representation_probe(
        codes, y=y, sensitive_features=s, n_estimators=probe_trees, random_state=seed
    )
    results = {
        "dataset": dataset,
        "estimator": estimator,
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
        **information_summary(model, arrays.x_test, s, seed=seed),
        "expectation_dp_gap": demographic_parity_gap(scores >= 0.5, s),
        **certificate_summary(model, arrays.x_test, y, s, seed=seed),
    }
    destination = Path(out) / (name or dataset)
    results["saved_to"] = str(destination)
    atomic_save(
        model,
        destination,
        preprocessor=arrays.preprocessor,
        files={"metrics.json": json.dumps(results, indent=2) + "\n"},
        inference_signatures=CERTIFIED_SIGNATURES,
    )
    print(certificate_text(results))
    print(json.dumps(results, indent=2))
    return results


CERTIFIED_SIGNATURES = ("sample", "threshold")
"""Served beside the default theta-score: ``serve_sample`` and ``serve_threshold``."""


def demographic_parity_gap(decisions: np.ndarray, s: np.ndarray) -> float:
    """The largest difference in positive-decision rate between two groups of ``s``."""
    rates = [float(np.mean(decisions[s == group])) for group in np.unique(s)]
    return max(rates) - min(rates)


def certificate_summary(
    model: Any, x: np.ndarray, y: np.ndarray, s: np.ndarray, *, seed: int = 0
) -> dict[str, Any]:
    """The certificate of the sampled and the thresholded code, and their decisions.

    For each mode: the certified bound (95 %) on the demographic-parity gap of any
    classifier of the code, the plug-in total variation, the method, and the accuracy and
    measured DP gap of the model's own decisions (score >= 0.5) served that way. For
    ``"sample"`` also how often two draws decide a row differently.
    """
    from keras_sqnn import metrics
    from keras_sqnn.export import with_inference

    summary: dict[str, Any] = {}
    for mode in CERTIFIED_SIGNATURES:
        certificate = metrics.certify(model, x, sensitive_features=s, inference=mode, seed=seed)
        served = with_inference(model, mode)
        decisions = served.predict(x, batch_size=4096, verbose=0).reshape(-1) >= 0.5
        summary.update(
            {
                f"{mode}_certified_dp_bound": certificate.bound,
                f"{mode}_plugin_tv": certificate.plugin_tv,
                f"{mode}_certificate_method": certificate.method,
                f"{mode}_accuracy": float(np.mean(decisions == y)),
                f"{mode}_dp_gap": demographic_parity_gap(decisions, s),
            }
        )
        if mode == "sample":
            again = served.predict(x, batch_size=4096, verbose=0).reshape(-1) >= 0.5
            summary["sample_decision_flip_rate"] = float(np.mean(again != decisions))
        summary["code_units"] = certificate.units
    return summary


def certificate_text(results: dict[str, Any]) -> str:
    """The certificate block of the printout: what is proven next to what is measured."""
    lines = [
        "[keras-sqnn] what is proven (95 % confidence, test rows i.i.d. from the population):",
    ]
    for mode, what in (("sample", "one sampled code"), ("threshold", "the thresholded code")):
        bound, plugin = results[f"{mode}_certified_dp_bound"], results[f"{mode}_plugin_tv"]
        lines.append(
            f"  decisions from {what} (signature serve_{mode}): DP gap of ANY classifier of "
            f"the {results['code_units']}-unit code <= {bound:.3f} (plug-in TV {plugin:.3f}, "
            f"{results[f'{mode}_certificate_method']}); this model: accuracy "
            f"{results[f'{mode}_accuracy']:.3f}, measured DP gap {results[f'{mode}_dp_gap']:.3f}"
        )
    lines.append(
        f"  the default theta-score (signature serve): no certificate; measured GPA "
        f"{results['gpa']:.3f}, DP gap {results['expectation_dp_gap']:.3f}, accuracy "
        f"{results['accuracy']:.3f}; sampled decisions differ between two draws on "
        f"{100 * results['sample_decision_flip_rate']:.1f} % of rows"
    )
    return "\n".join(lines)


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
        model,
        x[picked],
        sensitive_features=s[picked],
        n_samples=n_samples,
        layers=["representation"],
        seed=seed,
    ).iloc[0]
    return {
        "mi_t_s_mixture_bits": float(report["mi_ts_mixture"]),
        "sum_unit_mi_t_s_bits": float(report["sum_unit_mi_ts"]),
        "entropy_s_bits": float(report["entropy_s"]),
        "mi_t_s_rows": int(report["n"]),
        "mi_t_s_samples_per_row": int(report["n_samples"]),
    }
