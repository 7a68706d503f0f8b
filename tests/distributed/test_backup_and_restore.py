"""Training SIGKILLed mid-epoch resumes from the last BackupAndRestore backup and finishes.

Every run is a separate process of ``tests/distributed/resume_worker.py`` (4 epochs of 8
steps, no shuffling, fixed seeds). The first run of each resumed pair kills itself with
SIGKILL at batch 4 of epoch 2; the second run, same command, restores and finishes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_sqnn.layers import StochasticBinaryDense
from tests.distributed import resume_worker

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 300  # one run takes ~10 s; TensorFlow's import is most of it
KILL_AT = (2, 4)  # epoch 2 (0-based), batch 4 of 8
BATCHES_PER_EPOCH = resume_worker.NUM_ROWS // resume_worker.BATCH_SIZE


def _run(tmp_path: Path, name: str, **config) -> subprocess.CompletedProcess:
    config = {"out": str(tmp_path / f"{name}.npz"), **config}
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES="-1",
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    return subprocess.run(
        [sys.executable, "-m", "tests.distributed.resume_worker", json.dumps(config)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def _killed_then_resumed(tmp_path: Path, name: str, save_freq) -> dict[str, np.ndarray]:
    config = dict(
        backup_dir=str(tmp_path / f"{name}-backup"),
        save_freq=save_freq,
        kill_at=list(KILL_AT),
        marker=str(tmp_path / f"{name}-killed"),
    )
    first = _run(tmp_path, name, **config)
    assert first.returncode == -signal.SIGKILL, first.stderr[-4000:]
    assert (tmp_path / f"{name}-killed").exists()
    assert not (tmp_path / f"{name}.npz").exists()  # the first run never finished
    assert (tmp_path / f"{name}-backup").is_dir()  # ... but left a backup
    second = _run(tmp_path, name, **config)
    assert second.returncode == 0, second.stderr[-4000:]
    # BackupAndRestore deletes its backup once training finishes: nothing stale is left.
    assert not (tmp_path / f"{name}-backup").exists()
    return dict(np.load(tmp_path / f"{name}.npz"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    run = _run(tmp_path, "reference")
    assert run.returncode == 0, run.stderr[-4000:]
    result = dict(np.load(tmp_path / "reference.npz"))
    assert list(result["epochs"]) == list(range(resume_worker.EPOCHS))
    return result


@pytest.mark.slow
def test_resume_from_an_epoch_backup_is_bit_exact(uninterrupted, tmp_path):
    # Backups at the end of each epoch: the killed run's last backup is the end of epoch 1,
    # and the resumed process runs epochs 2 and 3. With the weights, the optimizer state and
    # the stochastic layer's seed-generator state restored, and unshuffled data, it replays
    # exactly what the uninterrupted run did: same losses, same MI, same weights, bit for bit.
    resumed = _killed_then_resumed(tmp_path, "epoch", save_freq="epoch")
    assert list(resumed["epochs"]) == [2, 3]
    np.testing.assert_array_equal(resumed["loss"], uninterrupted["loss"][2:])
    np.testing.assert_array_equal(resumed["mi"], uninterrupted["mi"][2:])
    weight_keys = sorted(k for k in uninterrupted if k.startswith("w"))
    assert weight_keys
    for key in weight_keys:
        np.testing.assert_array_equal(resumed[key], uninterrupted[key], err_msg=key)


@pytest.mark.slow
def test_resume_from_a_mid_epoch_backup_replays_from_that_backup(uninterrupted, tmp_path):
    # Backups every 3 steps: the last one before the kill (after batch 4 of epoch 2) is after
    # global step 21 = 2 epochs of 8 batches + 5 batches. Keras 3.15's BackupAndRestore
    # records only the epoch, so the resumed process restarts epoch 2 at batch 0 from those
    # mid-epoch weights, optimizer and seed-generator states: it retrains 5 batches and
    # cannot match the uninterrupted run. It must match, bit for bit, one process that
    # trains 2 epochs and 5 batches and then runs epochs 2 and 3 (same data, same draws).
    epoch, batch = KILL_AT
    steps_done = epoch * BATCHES_PER_EPOCH + batch + 1
    steps_backed_up = steps_done - steps_done % 3
    assert divmod(steps_backed_up, BATCHES_PER_EPOCH) == (2, 5)
    resumed = _killed_then_resumed(tmp_path, "steps", save_freq=3)
    run = _run(tmp_path, "replay", replay=[2, 5])
    assert run.returncode == 0, run.stderr[-4000:]
    replayed = dict(np.load(tmp_path / "replay.npz"))
    assert list(resumed["epochs"]) == list(replayed["epochs"]) == [2, 3]
    np.testing.assert_array_equal(resumed["loss"], replayed["loss"])
    np.testing.assert_array_equal(resumed["mi"], replayed["mi"])
    for key in sorted(k for k in uninterrupted if k.startswith("w")):
        np.testing.assert_array_equal(resumed[key], replayed[key], err_msg=key)
    # Restarting from scratch would repeat epoch 0's loss exactly (same seeds, same data):
    # the resumed first epoch starts from trained weights instead.
    assert resumed["loss"][0] < uninterrupted["loss"][0] - 0.02


@pytest.mark.parametrize("path", ["backup.weights.h5", "model.keras"])
def test_saved_weights_carry_the_seed_generator_state(path, tmp_path):
    # What makes the epoch-backup resume bit-exact, checked in-process (fast): a restored
    # layer continues the saved layer's random stream instead of starting it over.
    def model():
        x_in = keras.Input((3,))
        layer = StochasticBinaryDense(16, seed=7, name="sbd")
        return keras.Model(x_in, layer(x_in)), layer

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    trained, layer = model()
    first = layer(x, training=True).numpy()  # advances the state
    if path.endswith(".keras"):
        trained.save(tmp_path / path)
        restored = keras.models.load_model(tmp_path / path)
        restored_layer = restored.get_layer("sbd")
    else:
        trained.save_weights(tmp_path / path)
        restored, restored_layer = model()
        restored.load_weights(tmp_path / path)
    np.testing.assert_array_equal(
        restored_layer.seed_generator.state.numpy(), layer.seed_generator.state.numpy()
    )
    following = layer(x, training=True).numpy()
    np.testing.assert_array_equal(restored_layer(x, training=True).numpy(), following)
    # The comparison can tell: a layer that started the stream over would draw `first`.
    assert not np.array_equal(following, first)
