"""Corrupted and truncated saved models fail to load with a clear error, never load or crash.

The loads run in one child process (``tests/robustness/load_probe.py``): a segfault of a
native reader would show as the child's exit status instead of killing the test run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.models import SensitiveSequential

REPO = Path(__file__).resolve().parents[2]
PROBE_TIMEOUT_S = 300  # importing TensorFlow and a dozen loads: ~10 s unloaded


def _model():
    model = SensitiveSequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, seed=0, name="sbd"),
            keras.layers.Dense(1),
        ]
    )
    model(np.zeros((1, 4), "float32"))
    return model


def _rezip(source: Path, target: Path, change) -> None:
    """Copy the .keras archive with each member's bytes replaced by ``change(name, data)``.

    The archive itself stays valid (fresh CRCs): this is a half-written member, not a damaged
    archive.
    """
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            data = change(name, data)
            if data is not None:
                archive.writestr(name, data)


def _keras_variants(good: Path, folder: Path) -> dict[str, Path]:
    raw = good.read_bytes()
    weights = "model.weights.h5"

    def half(data: bytes) -> bytes:
        return data[: len(data) // 2]

    def flip(data: bytes, start: int, length: int = 64) -> bytes:
        return (
            data[:start]
            + bytes(b ^ 0xFF for b in data[start : start + length])
            + data[start + length :]
        )

    variants = {
        "truncated": half(raw),
        "empty": b"",
        "not_a_zip": bytes(range(256)) * 8,
        # Bytes flipped inside the stored weights member: the zip's CRC-32 catches it.
        "flipped_bytes": flip(raw, len(raw) - 4000),
    }
    paths = {}
    for name, data in variants.items():
        paths[name] = folder / f"{name}.keras"
        paths[name].write_bytes(data)
    rezipped = {
        "weights_truncated": lambda n, d: half(d) if n == weights else d,
        "weights_missing": lambda n, d: None if n == weights else d,
        "weights_zeroed_tail": lambda n, d: (
            half(d) + bytes(len(d) - len(half(d))) if n == weights else d
        ),
        "config_truncated": lambda n, d: half(d) if n == "config.json" else d,
    }
    for name, change in rezipped.items():
        paths[name] = folder / f"{name}.keras"
        _rezip(good, paths[name], change)
    return paths


def _saved_model_variants(good: Path, folder: Path) -> dict[str, Path]:
    paths = {}
    for name in ("no_variables_data", "truncated_index", "truncated_pb", "no_pb"):
        path = folder / f"sm_{name}"
        shutil.copytree(good, path)
        if name == "no_variables_data":
            for data_file in (path / "variables").glob("variables.data-*"):
                data_file.unlink()
        elif name == "truncated_index":
            index = path / "variables" / "variables.index"
            index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
        elif name == "truncated_pb":
            pb = path / "saved_model.pb"
            pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])
        else:
            (path / "saved_model.pb").unlink()
        paths[name] = path
    return paths


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corrupted")
    model = _model()
    good_keras = folder / "good.keras"
    model.save(good_keras)
    good_saved = folder / "good_saved_model"
    model.export(str(good_saved), verbose=False)
    keras_paths = {"good": good_keras, **_keras_variants(good_keras, folder)}
    saved_paths = {"good": good_saved, **_saved_model_variants(good_saved, folder)}
    requests = [["keras", str(p)] for p in keras_paths.values()]
    requests += [["saved_model", str(p)] for p in saved_paths.values()]
    (folder / "requests.json").write_text(json.dumps(requests))
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES="-1",
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.robustness.load_probe",
            str(folder / "requests.json"),
            str(folder / "results.json"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
    )
    # A crash (segfault: -11, abort: -6) of a native reader fails here, for every case.
    assert child.returncode == 0, f"load probe exited with {child.returncode}:\n{child.stderr}"
    results = json.loads((folder / "results.json").read_text())
    return {
        "keras": {name: results[str(path)] for name, path in keras_paths.items()},
        "saved_model": {name: results[str(path)] for name, path in saved_paths.items()},
    }


def test_the_intact_files_load(probe):
    # The control: the probe loads what it is given, so a failure below is the corruption's.
    assert probe["keras"]["good"] == {"loaded": True}
    assert probe["saved_model"]["good"] == {"loaded": True}


# What each corruption raises, and words of its message that say what is wrong. Keras and
# h5py raise these (the package has no loader of its own); they are all ordinary
# exceptions a caller can catch.
KERAS_CASES = {
    "truncated": (("ValueError",), "accessible `.keras` zip file"),
    "empty": (("ValueError",), "accessible `.keras` zip file"),
    "not_a_zip": (("ValueError",), "accessible `.keras` zip file"),
    "flipped_bytes": (("BadZipFile",), "Bad CRC-32 for file 'model.weights.h5'"),
    "weights_truncated": (("OSError",), "truncated file"),
    "weights_missing": (("ValueError",), "Expected a model.weights.h5"),
    # HDF5 names the damaged structure (a heap or symbol-table node, depending on where the
    # zeros start) and h5py maps it to one of its error classes.
    "weights_zeroed_tail": (("RuntimeError", "OSError", "KeyError"), "signature"),
    # Where the cut falls decides the reason ("Expecting ...", "Unterminated string ..."); every
    # JSONDecodeError names the position.
    "config_truncated": (("JSONDecodeError",), "column"),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_a_corrupted_keras_file_is_refused_with_a_clear_error(probe, case):
    result = probe["keras"][case]
    expected_types, words = KERAS_CASES[case]
    assert not result["loaded"], f"{case}: a corrupted .keras file loaded"
    assert result["type"] in expected_types, result
    assert words in result["message"], result


# "op": a tf.errors.OpError (TensorFlow 2.21 raises the base class here, not NotFoundError
# or DataLossError).
SAVED_MODEL_CASES = {
    "no_variables_data": ("op", "variables.data-00000-of-00001; No such file or directory"),
    "truncated_index": ("op", "not an sstable"),
    "truncated_pb": ("OSError", "Cannot parse file"),
    "no_pb": ("OSError", "SavedModel file does not exist"),
}


@pytest.mark.parametrize("case", sorted(SAVED_MODEL_CASES))
def test_a_truncated_saved_model_is_refused_with_a_clear_error(probe, case):
    result = probe["saved_model"][case]
    expected_type, words = SAVED_MODEL_CASES[case]
    assert not result["loaded"], f"{case}: a truncated SavedModel loaded"
    if expected_type == "op":
        assert result["tf_op_error"], result
    else:
        assert result["type"] == expected_type, result
    assert words in result["message"], result


# --- Lambda layers and safe mode ---------------------------------------------------------


def _lambda_models():
    x_in = keras.Input((4,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    doubled = keras.layers.Lambda(lambda v: v * 2.0)(x_in)
    t = StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, seed=0)(
        doubled, sensitive=s_in
    )
    functional = keras.Model({"features": x_in, "sensitive": s_in}, t)
    sequential = SensitiveSequential(
        [
            keras.Input((4,)),
            keras.layers.Lambda(lambda v: v * 2.0),
            StochasticBinaryDense(3, mi_estimator="bernoulli", gamma=0.1, seed=0),
        ]
    )
    sequential(np.zeros((1, 4), "float32"))
    return {"functional": functional, "sensitive_sequential": sequential}


@pytest.mark.parametrize("kind", ["functional", "sensitive_sequential"])
def test_a_keras_file_with_a_lambda_layer_is_refused_in_safe_mode(kind, tmp_path):
    model = _lambda_models()[kind]
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Lambda.*safe_mode=False"):
        keras.models.load_model(path, safe_mode=True)
    # The refusal is safe mode's: the same file loads when the caller opts out (and
    # SensitiveSequential's own from_config does not force safe mode back on).
    reloaded = keras.models.load_model(path, safe_mode=False)
    assert type(reloaded) is type(model)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    inputs = x if kind == "sensitive_sequential" else {"features": x, "sensitive": np.zeros(5)}
    np.testing.assert_allclose(reloaded(inputs), model(inputs), rtol=1e-6)
