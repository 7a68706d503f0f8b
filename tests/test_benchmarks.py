"""The benchmark scripts still run and print their figures (tiny runs; figures unchecked)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RATIO = r"\d+\.\d+ \[IQR \d+\.\d+-\d+\.\d+\]"


def _run(script, *arguments):
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.mark.slow
def test_step_time_prints_every_case_and_sampler_with_and_without_xla():
    output = _run("step_time.py", "--rounds", "3", "--cnn-rounds", "2", "--steps", "2")
    for case, target in (
        (r"\(a\) MLP, BinaryBernoulli", "1.30"),
        (r"\(b\) MLP, joint", "1.60"),
        (r"\(c\) CNN, BinaryBernoulli", "1.20"),
    ):
        for sampler in ("tfp", "philox"):
            row = rf"\| {case} \| {sampler} \| {RATIO} \| {RATIO} \| <= {target} \|"
            assert re.search(row, output), output


@pytest.mark.slow
def test_overhead_breakdown_prints_every_variant_with_and_without_xla():
    output = _run("overhead_breakdown.py", "--rounds", "2", "--steps", "2")
    for jit in ("False", "True"):
        assert re.search(
            rf"jit_compile={jit}: sigmoid Dense \(baseline\) \d+\.\d+ ms/step", output
        ), output
    for name in (
        "1. baseline again (control)",
        "2. stochastic layer, no MI",
        "3. BinaryBernoulli MI, codes not sampled",
        "4. (a) BinaryBernoulli MI, sampled codes",
        "5. (b) joint MI, sampled codes",
    ):
        lines = [line for line in output.splitlines() if name in line]
        assert len(lines) == 2, output  # one per jit_compile setting
        for line in lines:
            assert re.search(rf"ratio {RATIO}", line), line


def test_threshold_codes_layer_of_the_breakdown_draws_no_random_numbers():
    """Line 3 of overhead_breakdown.py must leave out the sampling and nothing else."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from overhead_breakdown import ThresholdCodesDense
    finally:
        sys.path.remove(str(BENCHMARKS))
    layer = ThresholdCodesDense(4, mi_estimator="bernoulli", gamma=0.1, seed=0)
    x = np.array([[3.0, -3.0, 0.5, -0.5], [-3.0, 3.0, -0.5, 0.5]], "float32")
    layer.build(x.shape)
    layer.kernel.assign(np.eye(4, dtype="float32"))
    seed_state = np.asarray(layer.seed_generator.state).copy()
    codes = layer(x, sensitive=np.array([0, 1]), training=True)
    np.testing.assert_array_equal(np.asarray(codes), [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(np.asarray(layer.seed_generator.state), seed_state)
    # The MI term is still added (the two examples' groups differ, so it is positive) and logged.
    assert len(layer.losses) == 1
    mi = float(layer.losses[0]) / 0.1
    assert mi > 0.1
    np.testing.assert_allclose(np.asarray(layer.mi_tracker.total_and_count), [mi, 1.0], rtol=1e-6)
