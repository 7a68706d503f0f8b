"""The lab's old import paths still work for one release, warn, and name the same objects."""

import subprocess
import sys
import textwrap

import pytest

from keras_sqnn.lab.moved import alias

# A fresh interpreter: the first import of an old path is the one that warns.
SCRIPT = textwrap.dedent(
    """
    import sys
    import warnings

    import keras_sqnn

    assert not [m for m in sys.modules if m.startswith("keras_sqnn.lab")], "loaded the lab"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        baselines = keras_sqnn.baselines  # the attribute, without an import
        import keras_sqnn.experiments.biased_mnist as old_biased_mnist
        from keras_sqnn.cli import main
        from keras_sqnn.plots import tradeoff_figure

    import keras_sqnn.lab.experiments.biased_mnist as biased_mnist
    from keras_sqnn.lab import baselines as lab_baselines, cli, plots

    assert baselines is lab_baselines
    assert old_biased_mnist is biased_mnist
    assert main is cli.main and tradeoff_figure is plots.tradeoff_figure
    messages = sorted(str(w.message) for w in caught if w.category is DeprecationWarning)
    for old in ("baselines", "cli", "experiments", "plots"):
        expected = f"`keras_sqnn.{old}` moved to `keras_sqnn.lab.{old}`"
        assert any(m.startswith(expected) for m in messages), (old, messages)
    print("ok")
    """
)


def test_old_paths_warn_and_are_the_new_modules():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_alias_of_a_package_maps_each_submodule(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras_sqnn.old_experiments", raising=False)
    with pytest.warns(DeprecationWarning, match="keras_sqnn.old_experiments` moved to"):
        new = alias("keras_sqnn.old_experiments", "keras_sqnn.lab.experiments")
    try:
        assert sys.modules["keras_sqnn.old_experiments"] is new
        old_tuned = sys.modules["keras_sqnn.old_experiments.tuned"]
        assert old_tuned is sys.modules["keras_sqnn.lab.experiments.tuned"]
    finally:
        for name in [m for m in sys.modules if m.startswith("keras_sqnn.old_experiments")]:
            del sys.modules[name]
