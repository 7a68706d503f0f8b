"""scripts/biased_mnist_gpu.sh issues the paper-budget runs it documents (no GPU needed)."""

import os
import subprocess
import sys
from pathlib import Path

from keras_sqnn.lab.experiments.biased_mnist_report import chosen_setting

ROOT = Path(__file__).resolve().parents[1]


def _calls(tmp_path, **settings):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    fake = bin_dir / "keras-sqnn"  # records its arguments instead of training
    fake.write_text(f'#!/usr/bin/env bash\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    python = bin_dir / "python"  # the script prints the GPUs and reads the selection
    python.write_text(f'#!/usr/bin/env bash\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    env = {**os.environ, "KERAS_SQNN": str(fake), "OUT": str(tmp_path / "out"), **settings}
    subprocess.run(["bash", "scripts/biased_mnist_gpu.sh"], cwd=ROOT, env=env, check=True)
    common = (
        f"biased-mnist --budget paper --rho 0.99 0.995 0.997 --seeds 0 1 2 --out {tmp_path}/out"
    )
    return [call.removeprefix(common) for call in log.read_text().splitlines()]


def test_gpu_script_runs_each_method_at_the_given_setting(tmp_path):
    settings = {
        "BINARY_BERNOULLI": "all 1e-5",
        "BINARY_MI": "first 0.2",
        "CONDITIONAL": "last 0.3",
        "REWEIGHTING": "50",
        "GROUP_DRO": "0.02",
    }
    assert _calls(tmp_path, **settings) == [
        " --methods vanilla",
        " --methods binary_bernoulli --layer all --gamma 1e-5",
        " --methods binary_mi --layer first --gamma 0.2",
        " --methods binary_bernoulli_conditional --layer last --gamma 0.3",
        " --methods reweighting --gamma 50",
        " --methods group_dro --gamma 0.02",
    ]


def test_gpu_script_defaults_to_the_cpu_protocols_validation_choice(tmp_path):
    selection = ROOT / "docs/results/biased_mnist_selection"
    chosen = {m: chosen_setting(selection, m) for m in ("binary_bernoulli", "group_dro")}
    calls = _calls(tmp_path)
    layer, gamma, _ = chosen["binary_bernoulli"]
    assert calls[1] == f" --methods binary_bernoulli --layer {layer} --gamma {gamma}"
    assert calls[5] == f" --methods group_dro --gamma {chosen['group_dro'][1]}"
    # The committed selection chose the first block for BinaryBernoulli and step 0.001.
    assert (layer, chosen["group_dro"][1]) == ("first", 0.001)
