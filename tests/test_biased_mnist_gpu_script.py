"""scripts/biased_mnist_gpu.sh issues the paper-budget runs it documents (no GPU needed)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_script_runs_every_method_and_layer_at_the_paper_budget(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    fake = bin_dir / "keras-sqnn"  # records its arguments instead of training
    fake.write_text(f'#!/usr/bin/env bash\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    python = bin_dir / "python"  # the script prints the GPUs TensorFlow sees
    python.write_text(f'#!/usr/bin/env bash\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    env = {**os.environ, "KERAS_SQNN": str(fake), "OUT": str(tmp_path / "out")}
    subprocess.run(["bash", "scripts/biased_mnist_gpu.sh"], cwd=ROOT, env=env, check=True)
    calls = log.read_text().splitlines()
    common = (
        f"biased-mnist --budget paper --rho 0.99 0.995 0.997 --seeds 0 1 2 --out {tmp_path}/out"
    )
    assert calls == [
        f"{common} --methods vanilla --gamma 0.01",
        f"{common} --methods binary_bernoulli binary_mi --layer first --gamma 0.01",
        f"{common} --methods binary_bernoulli binary_mi --layer last --gamma 0.01",
        f"{common} --methods binary_bernoulli binary_mi --layer all --gamma 0.01",
        f"{common} --methods binary_bernoulli_conditional --layer last --gamma 0.5",
        f"{common} --methods reweighting --gamma 100",
        f"{common} --methods group_dro --gamma 0.01",
    ]
