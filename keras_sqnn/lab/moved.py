"""The lab's old import paths (``keras_sqnn.experiments``, ...), kept for one release.

Until the lab had its own package its modules sat beside the library's:
``keras_sqnn.experiments``, ``keras_sqnn.baselines``, ``keras_sqnn.cli`` and
``keras_sqnn.plots``. Each old path is now a small module that calls :func:`alias`, so old
imports, ``keras-sqnn`` launchers installed before the move and
``keras.models.load_model`` of files saved before it keep working, and warn.
"""

import importlib
import pkgutil
import sys
import warnings
from types import ModuleType


def alias(old_name: str, new_name: str) -> ModuleType:
    """Make ``old_name`` and its submodules the very modules of ``new_name``.

    ``import old_name.sub`` then returns the module object ``new_name.sub`` (not a second
    copy with its own classes), so ``isinstance`` checks and Keras' registrations agree
    between the two paths. Warns with a ``DeprecationWarning`` naming the new path.
    """
    warnings.warn(
        f"`{old_name}` moved to `{new_name}`; import `{new_name}` instead. "
        f"The old path will be removed in the next release.",
        DeprecationWarning,
        stacklevel=3,
    )
    new = importlib.import_module(new_name)
    for info in pkgutil.walk_packages(getattr(new, "__path__", []), prefix=f"{new_name}."):
        submodule = importlib.import_module(info.name)
        sys.modules[old_name + info.name.removeprefix(new_name)] = submodule
    sys.modules[old_name] = new
    return new
