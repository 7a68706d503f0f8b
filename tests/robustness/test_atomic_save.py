"""Saving is atomic: a crash while exporting never leaves a half-written model in place.

``keras_sqnn.export.atomic_save`` writes the ``.keras`` file and the SavedModel into a hidden
staging folder beside the destination and renames it into place. A failure (exception) or a
kill (SIGKILL) during the writes leaves the destination holding the previous complete export,
or nothing when there was none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn.export import atomic_save
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential

REPO = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")


def _model(seed: int) -> SensitiveSequential:
    model = SensitiveSequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                8, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
            ),
            StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, seed=seed),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed)),
        ]
    )
    model(X)
    return model


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _assert_serves(destination: Path, model: keras.Model) -> None:
    expected = model.predict(X, verbose=0)
    reloaded = keras.models.load_model(destination / "model.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), expected, rtol=1e-6)
    served = tf.saved_model.load(str(destination / "serving"))
    np.testing.assert_allclose(served.serve(tf.constant(X)).numpy(), expected, rtol=1e-5)


def _partial_then_fail(method: str):
    """A stand-in for model.save / model.export that writes part of its output, then fails."""

    def write(filepath, *args, **kwargs):
        path = Path(filepath)
        if method == "export":
            (path / "variables").mkdir(parents=True)
            (path / "saved_model.pb").write_bytes(b"\x08\x01half a protobuf")
        else:
            path.write_bytes(b"PK\x03\x04half a zip")
        raise OSError(28, "No space left on device")

    return write


@pytest.mark.parametrize("method", ["save", "export"])
def test_a_failed_save_keeps_the_previous_export(method, tmp_path):
    destination = tmp_path / "models" / "adult"
    first = _model(seed=1)
    atomic_save(first, destination)
    before = _tree(destination)
    assert set(before) >= {"model.keras", "serving/saved_model.pb"}

    second = _model(seed=2)
    # The two models differ, so serving the wrong one would be seen.
    assert not np.allclose(second.predict(X, verbose=0), first.predict(X, verbose=0))
    setattr(second, method, _partial_then_fail(method))
    with pytest.raises(OSError, match="No space left on device"):
        atomic_save(second, destination)
    assert _tree(destination) == before  # byte for byte
    _assert_serves(destination, first)
    # No staging or backup folder is left beside it.
    assert sorted(p.name for p in destination.parent.iterdir()) == ["adult"]


def test_a_failed_first_save_leaves_nothing(tmp_path):
    destination = tmp_path / "models" / "adult"
    model = _model(seed=1)
    model.export = _partial_then_fail("export")
    with pytest.raises(OSError, match="No space left on device"):
        atomic_save(model, destination)
    assert not destination.exists()
    assert list(destination.parent.iterdir()) == []


def test_a_successful_save_replaces_the_previous_export(tmp_path):
    # The control for the tests above: without a failure the new model does replace the old.
    destination = tmp_path / "adult"
    atomic_save(_model(seed=1), destination)
    second = _model(seed=2)
    atomic_save(second, destination)
    _assert_serves(destination, second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adult"]
    # Readable by others as a plain mkdir would make it (mkdtemp alone gives 0700).
    umask = os.umask(0)
    os.umask(umask)
    assert destination.stat().st_mode & 0o777 == 0o777 & ~umask


KILLED_DURING_EXPORT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import numpy as np
    from keras_sqnn.export import atomic_save
    from tests.robustness.test_atomic_save import X, _model

    destination = Path(sys.argv[1])
    first = _model(seed=1)
    atomic_save(first, destination)
    np.save(destination.parent / "expected.npy", first.predict(X, verbose=0))

    def export_then_die(filepath, *args, **kwargs):
        path = Path(filepath)
        (path / "variables").mkdir(parents=True)
        (path / "saved_model.pb").write_bytes(b"half a protobuf")
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no cleanup

    second = _model(seed=2)
    second.export = export_then_die
    atomic_save(second, destination)
    """
)


@pytest.mark.slow
def test_a_kill_during_export_keeps_the_previous_export(tmp_path):
    destination = tmp_path / "models" / "adult"
    destination.parent.mkdir()
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES="-1",
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    child = subprocess.run(
        [sys.executable, "-c", KILLED_DURING_EXPORT, str(destination)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-4000:]
    expected = np.load(destination.parent / "expected.npy")
    reloaded = keras.models.load_model(destination / "model.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), expected, rtol=1e-6)
    served = tf.saved_model.load(str(destination / "serving"))
    np.testing.assert_allclose(served.serve(tf.constant(X)).numpy(), expected, rtol=1e-5)
    # A kill skips the cleanup: the half-written staging folder stays, hidden, beside the
    # destination (safe to delete), and never under the destination's name.
    leftovers = sorted(p.name for p in destination.parent.iterdir())
    assert leftovers[-2:] == ["adult", "expected.npy"]
    assert len(leftovers) == 3 and leftovers[0].startswith(".adult-")
    assert (destination.parent / leftovers[0] / "serving" / "saved_model.pb").read_bytes() == (
        b"half a protobuf"
    )
