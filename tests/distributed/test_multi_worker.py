"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 train one SQNN.

Each worker runs ``tests/distributed/multi_worker.py`` (see its docstring for the exact
sharding of the global batch). The test checks that both workers end with identical weights
and that the MI term they log is the MI of the global batch: the value, and the weights after
the SGD steps, of a single process fed the same global batches.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.distributed import multi_worker

REPO = Path(__file__).resolve().parents[2]
# Start-up (importing TensorFlow) plus two steps takes ~10-30 s per worker on a loaded
# 2-core machine; the collectives themselves time out after 120 s (multi_worker.py).
WORKER_TIMEOUT_S = 300


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _run_workers(tmp_path: Path, estimator: str, units: int) -> list[dict[str, np.ndarray]]:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    processes = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            CUDA_VISIBLE_DEVICES="-1",
            PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        )
        log = open(tmp_path / f"worker{index}.log", "w")  # noqa: SIM115 - closed below
        command = [sys.executable, "-m", "tests.distributed.multi_worker"]
        command += [str(tmp_path / f"worker{index}.npz"), estimator, str(units)]
        processes.append(
            (
                subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT),
                log,
            )
        )
    try:
        for process, _ in processes:
            process.wait(timeout=WORKER_TIMEOUT_S)
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
    for index, (process, _) in enumerate(processes):
        assert process.returncode == 0, (
            f"worker {index} exited with {process.returncode}:\n"
            + (tmp_path / f"worker{index}.log").read_text()[-4000:]
        )
    return [dict(np.load(tmp_path / f"worker{index}.npz")) for index in range(2)]


def _single_process_run(estimator: str, units: int) -> tuple[list[float], list[np.ndarray]]:
    """The same model and global batches in this process, without a strategy."""
    data = multi_worker.make_data()
    model = multi_worker.build_model(estimator, units)
    values = []
    for start in range(0, multi_worker.NUM_ROWS, multi_worker.GLOBAL_BATCH):
        batch = {
            key: value[start : start + multi_worker.GLOBAL_BATCH] for key, value in data.items()
        }
        model.reset_metrics()
        logs = model.train_on_batch(batch, return_dict=True)
        values.append(logs[f"{multi_worker.LAYER}_mi"])
    return values, model.get_weights()


@pytest.mark.slow
@pytest.mark.parametrize(("estimator", "units"), [("bernoulli", 6), ("joint", 4)])
def test_two_workers_train_on_the_global_batch_mi(estimator, units, tmp_path):
    workers = _run_workers(tmp_path, estimator, units)
    assert [int(w["task_id"]) for w in workers] == [0, 1]
    assert all(int(w["num_replicas"]) == 2 for w in workers)
    weight_keys = sorted(k for k in workers[0] if k.startswith("w"))
    assert len(weight_keys) == 4  # two kernels, two biases
    # The ring all-reduce hands every worker the same summed gradient, so the updates are
    # the same bits on both workers.
    for key in weight_keys:
        np.testing.assert_array_equal(workers[0][key], workers[1][key], err_msg=key)
    np.testing.assert_array_equal(workers[0]["step_mi"], workers[1]["step_mi"])

    single_mi, single_weights = _single_process_run(estimator, units)
    # The MI (gamma = 1, the whole loss) of each step is that of the global batch, and after
    # two SGD steps (lr = 1) so are the weights, up to float32 reduction-order error (sums of
    # 32 + 32 instead of 64 rows, and over 2**units codes: ~1e-6 relative per step).
    np.testing.assert_allclose(workers[0]["step_mi"], single_mi, rtol=1e-4)
    for key, expected in zip(weight_keys, single_weights, strict=True):
        np.testing.assert_allclose(workers[0][key], expected, rtol=1e-4, atol=1e-6, err_msg=key)
    # The comparison can tell: the MI of one worker's 32 rows is not the global one.
    data = multi_worker.make_data()
    model = multi_worker.build_model(estimator, units)
    model({key: value[:32] for key, value in data.items()}, training=True)
    assert float(model.losses[0]) != pytest.approx(single_mi[0], rel=1e-3)
