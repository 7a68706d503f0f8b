"""The paper's Biased-MNIST experiment (Table 1): accuracy on colour-unbiased test images.

Training images have a background in their class colour with probability ``rho``; the test
images (the ReBias "unbiased" split, ``rho = 0.1``) have colours independent of the digit,
so a network that learnt the colour shortcut fails on them.

The network is ReBias' ``SimpleConvNet`` (Bahng et al. 2020, ``models/mnist_models.py``):
``len(filters)`` blocks of Conv2D(padding same) -> BatchNormalization -> ReLU, global
average pooling, Dense(10); Kaiming-normal (fan-out) convolution kernels; inputs scaled
to ``(x / 255 - 0.5) / 0.5`` inside the model. The SQNN variants put
:class:`keras_sqnn.layers.StochasticBinaryConv2D` (its Bernoulli codes are the block's
activation, so the block has no BatchNormalization and ReLU) in place of the first, the
last or all blocks, and penalise the information its codes carry about the background
colour (10 groups).

Two budgets (:meth:`MnistProtocol.named`):

- ``paper``: ReBias exactly: 16/32/64/128 channels, kernel 7, 28 x 28 inputs, Adam 1e-3
  with (coupled, PyTorch-style) weight decay 1e-4, learning rate x 0.1 every 20 epochs,
  batch 256, 80 epochs on all 60,000 training images (a GPU: about 21 h on 2 CPU cores).
- ``cpu``: a protocol chosen on a validation split held out from the MNIST training
  images (:func:`validation_split`) that runs in under 30 minutes per model on 2 CPU
  cores: 3 x 3 kernels with 2 x 2 max pooling after each block but the last, Adam with a
  one-cycle learning rate peaking at 6e-3, batch 128, 20 epochs on 50,000 training images
  (the other 10,000, recoloured at ``rho = 0.1``, give a per-epoch validation accuracy);
  see docs/BIASED_MNIST.md.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_sqnn.datasets.biased_mnist import (
    fetch_biased_mnist,
)
from keras_sqnn.lab.experiments.bias_supervised import group_ids, inverse_frequency_weights
from keras_sqnn.lab.experiments.biased_mnist_data import (
    predict_digits,
    tf_dataset,
    training_data,
)
from keras_sqnn.lab.experiments.biased_mnist_network import (
    METHODS,
    PAPER_METHODS,
    SQNN_METHODS,
    MnistProtocol,
    build_mnist_classifier,
    learning_rate_callback,
)

CSV_COLUMNS = (
    "method",
    "rho",
    "seed",
    "layer",
    "estimator",
    "gamma",
    "epochs",
    "train_images",
    "budget",
    "unbiased_accuracy",
    "biased_accuracy",
    "train_seconds",
)
ESTIMATOR_NAMES = {
    "vanilla": "none",
    "binary_bernoulli": "bernoulli",
    "binary_mi": "joint",
    "binary_bernoulli_conditional": "bernoulli_given_digit",
    "reweighting": "none",
    "group_dro": "none",
}
"""The ``estimator`` column of each method: the SQNNs' MI term."""


class EpochLog(keras.callbacks.Callback):
    """Prints one progress line per epoch and hands the epoch's numbers to ``on_epoch``."""

    def __init__(
        self, label: str, epochs: int, on_epoch: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        super().__init__()
        self.label, self.epochs, self.on_epoch = label, epochs, on_epoch
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        record = {
            "epoch": epoch + 1,
            "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            "seconds": time.perf_counter() - self.started,
            "train_accuracy": float(logs.get("accuracy", math.nan)),
            "val_unbiased_accuracy": float(logs.get("val_accuracy", math.nan)),
        }
        print(
            f"[biased-mnist] {self.label} epoch {epoch + 1}/{self.epochs} "
            f"lr={record['learning_rate']:.2e} loss={logs.get('loss', math.nan):.4f} "
            f"train_acc={record['train_accuracy']:.4f} "
            f"val_unbiased_acc={record['val_unbiased_accuracy']:.4f} "
            f"({record['seconds']:.0f} s)",
            flush=True,
        )
        if self.on_epoch is not None:
            self.on_epoch(record)


def train_and_test(
    method: str,
    rho: float,
    *,
    protocol: MnistProtocol,
    seed: int = 0,
    gamma: float = 0.01,
    layer: str = "first",
    backup_dir: str | os.PathLike[str] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    train_images: int | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Train one model on Biased-MNIST(rho) and test it; return one results row.

    Args:
        method: in :data:`METHODS`.
        rho: training colour correlation.
        protocol: network and budget.
        seed: seeds the colouring, the held-out rows, the weights and the shuffling.
        gamma, layer: the SQNN's trade-off and binary blocks (see
            :func:`build_mnist_classifier`).
        backup_dir: a ``keras.callbacks.BackupAndRestore`` folder, so that a killed run
            resumes at its last finished epoch.
        on_epoch: called with each epoch's record (epoch, learning rate, seconds,
            training and validation accuracy).
        train_images: use only the first ``train_images`` training images (smoke tests).
        verbose: ``fit``'s verbosity (the progress line is printed either way).

    Returns:
        A dict with the keys :data:`CSV_COLUMNS`.
    """
    train, validation = training_data(rho, protocol, seed)
    if train_images is not None:
        train = replace(
            train, X=train.X[:train_images], y=train.y[:train_images], s=train.s[:train_images]
        )
    model = build_mnist_classifier(method, protocol=protocol, gamma=gamma, layer=layer, seed=seed)
    label = f"{method} rho={rho} seed={seed}" + (
        f" layer={layer}" if method in SQNN_METHODS else f" gamma={gamma:g}"
    )
    callbacks: list[keras.callbacks.Callback] = [
        learning_rate_callback(protocol),
        EpochLog(label, protocol.epochs, on_epoch),
    ]
    if backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(str(backup_dir)))
    started = time.perf_counter()
    labels = method == "binary_bernoulli_conditional"
    weights = None
    if method == "reweighting":
        groups = group_ids(np.asarray(train.y, np.int64), np.asarray(train.s, np.int64))
        weights = inverse_frequency_weights(groups, cap=gamma)
    model.fit(
        tf_dataset(
            train, protocol.batch_size, shuffle=True, seed=seed, labels=labels, weights=weights
        ),
        epochs=protocol.epochs,
        shuffle=False,  # the dataset shuffles itself
        validation_data=(
            None if validation is None else tf_dataset(validation, 1000, labels=labels)
        ),
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    row: dict[str, Any] = {
        "method": method,
        "rho": rho,
        "seed": seed,
        "layer": layer if method in SQNN_METHODS else "none",
        "estimator": ESTIMATOR_NAMES[method],
        "gamma": 0.0 if method == "vanilla" else gamma,
        "epochs": protocol.epochs,
        "train_images": len(train.y),
        "budget": protocol.name,
        "train_seconds": round(seconds, 1),
    }
    for split, column in (("test", "unbiased_accuracy"), ("test_biased", "biased_accuracy")):
        test = fetch_biased_mnist(split=split, seed=seed, dtype="uint8")
        row[column] = float(np.mean(predict_digits(model, test.X) == test.y))
    return row


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a model in the CSVs: (method, rho, seed, layer, budget, gamma)."""
    return (
        str(row["method"]),
        round(float(row["rho"]), 6),
        int(row["seed"]),
        str(row["layer"]),
        str(row["budget"]),
        round(float(row["gamma"]), 9),
    )


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a results CSV (empty when the file does not exist)."""
    if not Path(path).exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def append_row(path: str | os.PathLike[str], row: dict[str, Any], columns: Sequence[str]) -> None:
    """Append ``row`` to the CSV at ``path``, writing the header when the file is new."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def run_biased_mnist(
    rhos: Sequence[float] = (0.99, 0.995),
    *,
    methods: Sequence[str] = PAPER_METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    budget: str = "cpu",
    gamma: float = 0.01,
    layer: str = "first",
    out: str | os.PathLike[str] = "docs/results",
    train_images: int | None = None,
    epochs: int | None = None,
    verbose: int = 0,
) -> list[dict[str, Any]]:
    """Train and test every (method, rho, seed); append each result to ``out``'s CSV.

    Results go one row at a time to ``out/biased_mnist.csv`` (columns
    :data:`CSV_COLUMNS`) and each epoch's validation accuracy to
    ``out/biased_mnist_curves.csv``; a (method, rho, seed, layer, budget, gamma) already in
    the CSV is skipped, and each model trains with a ``BackupAndRestore`` folder under
    ``out/biased_mnist_backup/``, so a killed run resumes without losing finished models
    or epochs.

    Args:
        rhos: training colour correlations.
        methods: in :data:`METHODS` (default: the paper's, :data:`PAPER_METHODS`).
        seeds: one model per seed.
        budget: ``"cpu"`` or ``"paper"`` (:meth:`MnistProtocol.named`).
        gamma, layer: the SQNN's trade-off and binary blocks.
        out: the results folder.
        train_images: train on this many images only (smoke tests).
        epochs: override the protocol's epochs (smoke tests).
        verbose: ``fit``'s verbosity.

    Returns:
        The rows written by this call.
    """
    unknown = [method for method in methods if method not in METHODS]
    if unknown:  # before any model trains
        raise ValueError(f"Expected `methods` in {METHODS}. Received: methods={list(methods)}")
    overrides = {} if epochs is None else {"epochs": epochs}
    protocol = MnistProtocol.named(budget, **overrides)
    out = Path(out)
    results, curves = out / "biased_mnist.csv", out / "biased_mnist_curves.csv"
    done = {row_key(row) for row in read_rows(results)}
    written = []
    for rho in rhos:
        for seed in seeds:
            for method in methods:
                key_row = {
                    "method": method,
                    "rho": rho,
                    "seed": seed,
                    "layer": layer if method in SQNN_METHODS else "none",
                    "budget": protocol.name,
                    "gamma": 0.0 if method == "vanilla" else gamma,
                }
                if row_key(key_row) in done:
                    print(f"[biased-mnist] skip {method} rho={rho} seed={seed}: in {results}")
                    continue
                tag = f"{method}_{key_row['layer']}_g{key_row['gamma']}_rho{rho}_seed{seed}"

                def on_epoch(record: dict[str, Any], key_row: dict[str, Any] = key_row) -> None:
                    append_row(curves, {**key_row, **record}, [*key_row, *CURVE_COLUMNS])

                row = train_and_test(
                    method,
                    rho,
                    protocol=protocol,
                    seed=seed,
                    gamma=gamma,
                    layer=layer,
                    backup_dir=out / "biased_mnist_backup" / f"{protocol.name}_{tag}",
                    on_epoch=on_epoch,
                    train_images=train_images,
                    verbose=verbose,
                )
                append_row(results, row, CSV_COLUMNS)
                print(
                    f"[biased-mnist] {method} rho={rho} seed={seed}: unbiased "
                    f"{row['unbiased_accuracy']:.4f}, biased {row['biased_accuracy']:.4f} "
                    f"({row['train_seconds']:.0f} s) -> {results}",
                    flush=True,
                )
                written.append(row)
    return written


CURVE_COLUMNS = (
    "epoch",
    "learning_rate",
    "seconds",
    "train_accuracy",
    "val_unbiased_accuracy",
)


def protocol_fields(protocol: MnistProtocol) -> dict[str, Any]:
    """The protocol as a flat dict (filters joined by ``-``), for CSVs."""
    fields = asdict(protocol)
    fields["filters"] = "-".join(str(f) for f in protocol.filters)
    return fields
