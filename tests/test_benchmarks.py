"""The benchmark scripts still run and print their figures (tiny runs; figures unchecked)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RATIO = r"ratio \d+\.\d+ \[IQR \d+\.\d+-\d+\.\d+; fastest rounds \d+\.\d+\]"


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
@pytest.mark.parametrize("timer", [[], ["--through-fit"]], ids=["train_function", "fit"])
def test_step_time_prints_both_ratios_with_and_without_xla(timer):
    output = _run("step_time.py", "--rounds", "3", "--steps", "2", *timer)
    for jit in ("False", "True"):
        line = next(line for line in output.splitlines() if f"jit_compile={jit}:" in line)
        assert re.search(rf"\(a\) bernoulli {RATIO} \(target <= 1\.10\)", line), line
        assert re.search(rf"\(b\) joint {RATIO} \(target <= 1\.50\)", line), line


@pytest.mark.slow
def test_layer_cost_prints_the_four_passes():
    output = _run("layer_cost.py", "--repeats", "1", "--chain", "1")
    for name in (
        "sigmoid (baseline)",
        "sample + straight-through",
        "+ bernoulli MI",
        "+ joint MI (sampled)",
    ):
        assert re.search(re.escape(name) + r"\s+\d+\.\d / +\d+\.\d", output), output


@pytest.mark.slow
def test_compare_revisions_times_this_checkout_against_a_git_revision():
    output = _run("compare_revisions.py", "--against", "HEAD", "--rounds", "2", "--steps", "2")
    for estimator in ("bernoulli", "joint"):
        assert re.search(
            rf"{estimator}: ratio old \d+\.\d+, new \d+\.\d+; new / old \d+\.\d+", output
        ), output
