"""Search a CPU protocol for Biased-MNIST whose vanilla network reproduces ReBias' row.

Each candidate protocol trains the vanilla SimpleConvNet on 50,000 MNIST training images
coloured at rho and is scored by its accuracy on 10,000 held-out MNIST *training* images
recoloured at rho = 0.1 (``validation_split``), once per epoch; the test images are
only read after training, for the record. One row per epoch goes to
docs/results/biased_mnist_protocols.csv and one per finished model to
docs/results/biased_mnist_protocol_tests.csv; a finished (protocol, rho, seed) is skipped,
so the search resumes where it stopped.

    python scripts/biased_mnist_protocol_search.py --time            # seconds per epoch
    python scripts/biased_mnist_protocol_search.py k3w16_14_oc20 --rho 0.99 --seeds 0
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from keras_sqnn.lab.experiments.biased_mnist import (
    CURVE_COLUMNS,
    MnistProtocol,
    append_row,
    build_mnist_classifier,
    learning_rate_callback,
    protocol_fields,
    read_rows,
    tf_dataset,
    train_and_test,
)
from keras_sqnn.lab.experiments.biased_mnist_data import validation_split

_BASE = MnistProtocol(name="base", validation_images=10_000)
PROTOCOLS = {
    p.name: p
    for p in (
        replace(
            _BASE,
            name="k3w16_14_oc20",
            kernel_size=3,
            resolution=14,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
        replace(
            _BASE,
            name="k3w16_14_step20",
            kernel_size=3,
            resolution=14,
            epochs=20,
            batch_size=128,
            step_epochs=10,
        ),
        replace(
            _BASE,
            name="k5w8_14_oc20",
            filters=(8, 16, 32, 64),
            kernel_size=5,
            resolution=14,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
        replace(
            _BASE,
            name="k7w8_14_oc20",
            filters=(8, 16, 32, 64),
            kernel_size=7,
            resolution=14,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
        replace(
            _BASE,
            name="k3pool_28_oc20",
            kernel_size=3,
            resolution=28,
            pool=True,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
        replace(
            _BASE,
            name="k3pool_14_oc20",
            filters=(32, 64, 128),
            kernel_size=3,
            resolution=14,
            pool=True,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
        replace(
            _BASE,
            name="k3w8_14_oc20",
            filters=(8, 16, 32, 64),
            kernel_size=3,
            resolution=14,
            epochs=20,
            batch_size=128,
            schedule="onecycle",
        ),
    )
}
_POOL = replace(_BASE, kernel_size=3, pool=True, epochs=20, batch_size=128, schedule="onecycle")
PROTOCOLS.update(
    (p.name, p)
    for p in (
        replace(_POOL, name="k3pool_28_oc20_lr3e-3", learning_rate=3e-3),
        replace(_POOL, name="k3pool_28_b64_oc20", batch_size=64),
        replace(_POOL, name="k3pool_28_oc40", epochs=40),
        replace(_POOL, name="k3pool24_28_oc20", filters=(24, 48, 96, 192)),
        replace(_POOL, name="k3pool_28_step20", schedule="step", step_epochs=10),
        replace(_POOL, name="k3pool_28_oc20_lr6e-3", learning_rate=6e-3),
        replace(_POOL, name="k3pool_28_b64_oc20_lr3e-3", batch_size=64, learning_rate=3e-3),
    )
)
RESULTS = Path("docs/results")


def time_protocols(names: list[str], steps: int = 40) -> None:
    """Print each protocol's measured seconds per epoch (50,000 images), from ``steps`` steps."""
    train, _ = validation_split(0.99, seed=0)
    for name in names:
        protocol = PROTOCOLS[name]
        model = build_mnist_classifier("vanilla", protocol=protocol)
        data = tf_dataset(train, protocol.batch_size, shuffle=True).take(steps + 5)
        model.fit(data.take(5), verbose=0, callbacks=[learning_rate_callback(protocol)])
        started = time.perf_counter()
        model.fit(data.skip(5), verbose=0)
        per_step = (time.perf_counter() - started) / steps
        print(f"{name}: {per_step * 50_000 / protocol.batch_size:.1f} s/epoch", flush=True)


def search(names: list[str], rhos: list[float], seeds: list[int]) -> None:
    curves = RESULTS / "biased_mnist_protocols.csv"
    tests = RESULTS / "biased_mnist_protocol_tests.csv"
    done = {(r["protocol"], float(r["rho"]), int(r["seed"])) for r in read_rows(tests)}
    for rho in rhos:
        for name in names:
            for seed in seeds:
                if (name, rho, seed) in done:
                    print(f"skip {name} rho={rho} seed={seed}", flush=True)
                    continue
                protocol = PROTOCOLS[name]
                fields = {f"protocol_{k}": v for k, v in protocol_fields(protocol).items()}
                key = {"protocol": name, "rho": rho, "seed": seed}
                epochs: list[dict] = []

                def on_epoch(record: dict, key: dict = key, epochs: list = epochs) -> None:
                    epochs.append(record)
                    append_row(curves, {**key, **record}, [*key, *CURVE_COLUMNS])

                row = train_and_test(
                    "vanilla",
                    rho,
                    protocol=protocol,
                    seed=seed,
                    backup_dir=Path("/tmp/bm_search_backup") / f"{name}_{rho}_{seed}",
                    on_epoch=on_epoch,
                )
                val = [e["val_unbiased_accuracy"] for e in epochs]
                summary = {
                    **key,
                    "val_unbiased_accuracy": val[-1] if val else np.nan,
                    "best_val_unbiased_accuracy": max(val) if val else np.nan,
                    "seconds_per_epoch": row["train_seconds"] / protocol.epochs,
                    **{k: row[k] for k in ("unbiased_accuracy", "biased_accuracy")},
                    "train_seconds": row["train_seconds"],
                    **fields,
                }
                append_row(tests, summary, list(summary))
                print(summary, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="*", default=list(PROTOCOLS))
    parser.add_argument("--rho", type=float, nargs="+", default=[0.99])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--time", action="store_true", help="only time each protocol")
    args = parser.parse_args()
    if args.time:
        time_protocols(args.protocols)
    else:
        search(args.protocols, args.rho, args.seeds)


if __name__ == "__main__":
    main()
