"""A training run for the BackupAndRestore test: ``python resume_worker.py CONFIG_JSON``.

Trains the SQNN of :func:`build_model` for ``EPOCHS`` epochs with
``keras.callbacks.BackupAndRestore(backup_dir, save_freq=...)``. When ``kill_at`` is set
(``[epoch, batch]``) and the marker file does not exist yet, the process creates the marker
and SIGKILLs itself at the end of that batch: no Python cleanup, no ``finally``, like an
out-of-memory kill or a pre-empted machine. Run again with the same arguments, it finds the
marker, restores the backup and finishes. It writes the epochs it ran, their losses and the
final weights to ``out`` (an ``.npz``).
"""

from __future__ import annotations

import json
import os
import signal
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

EPOCHS = 4
BATCH_SIZE = 32
NUM_ROWS = 256  # 8 steps per epoch


def make_data(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, NUM_ROWS).astype("int32")
    x = (rng.normal(size=(NUM_ROWS, 6)) + s[:, None]).astype("float32")
    y = (x[:, 1] + 0.5 * rng.normal(size=NUM_ROWS) > 0.5).astype("float32")
    return {"features": x, "sensitive": s}, y


def build_model() -> keras.Model:
    from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier

    keras.utils.set_random_seed(0)
    config = SQNNConfig(gamma=0.3, n_hidden=2, hidden_size=8, learning_rate=1e-2)
    model = build_sqnn_classifier(6, config, num_groups=2, seed=0)
    # BackupAndRestore restores into a built model only.
    model.build((None, 6))
    return model


class KillAt(keras.callbacks.Callback):
    """SIGKILLs the process at the end of batch ``batch`` of epoch ``epoch``, once."""

    def __init__(self, epoch: int, batch: int, marker: str) -> None:
        super().__init__()
        self.kill_epoch, self.kill_batch, self.marker = epoch, batch, marker
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (self.kill_epoch, self.kill_batch) and not os.path.exists(
            self.marker
        ):
            with open(self.marker, "w") as handle:
                handle.write(f"killed at epoch {self.epoch} batch {batch}\n")
            os.kill(os.getpid(), signal.SIGKILL)


def main(config: dict) -> None:
    x, y = make_data()
    model = build_model()
    callbacks = []
    if config.get("backup_dir"):
        callbacks.append(
            keras.callbacks.BackupAndRestore(config["backup_dir"], save_freq=config["save_freq"])
        )
    if config.get("kill_at"):
        callbacks.append(KillAt(*config["kill_at"], marker=config["marker"]))
    initial_epoch = 0
    if config.get("replay"):
        # What a resume from a mid-epoch backup does, in one process: train `epochs` epochs
        # and `batches` batches (what the backup holds), then restart at the next epoch's
        # first batch.
        initial_epoch, batches = config["replay"]
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=initial_epoch, shuffle=False, verbose=0)
        rows = batches * BATCH_SIZE
        head = {key: value[:rows] for key, value in x.items()}
        model.fit(head, y[:rows], batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        initial_epoch=initial_epoch,
        epochs=EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    np.savez(
        config["out"],
        epochs=np.array(history.epoch),
        loss=np.array(history.history["loss"]),
        mi=np.array(history.history["representation_mi"]),
        **{f"w{i}": w for i, w in enumerate(model.get_weights())},
    )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
