import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_sqnn import distributed_search, metrics, tuning
from tests.tuning.chief_and_workers import free_port, run_chief_and_workers
from tests.tuning.search_script import make_tuner, synthetic_folds

ROOT = Path(__file__).resolve().parents[2]


def _run_script(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "tests.tuning.search_script", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        capture_output=True,
        text=True,
    )


def test_fairness_score_is_the_papers_sum():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    scores = rng.uniform(size=200)
    result = tuning.fairness_score(y, scores, sensitive_features=s)
    auc = metrics.auc(y, scores)
    gpa = metrics.gpa(y, scores, sensitive_features=s)
    audc = metrics.audc(y, scores, sensitive_features=s)
    assert result["fairness_score"] == pytest.approx(auc + (1 - gpa) + (1 - audc))


def test_fairness_score_takes_s_positionally_with_a_deprecation_warning():
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 100), rng.integers(0, 2, 100)
    scores = rng.uniform(size=100)
    expected = tuning.fairness_score(y, scores, sensitive_features=s)
    with pytest.warns(
        DeprecationWarning,
        match=r"`sensitive_features=`: `fairness_score\(y_true, y_score, sensitive_features=s\)`",
    ) as record:
        assert tuning.fairness_score(y, scores, s) == expected
    # The warning points at the caller's line.
    assert all(w.filename == __file__ for w in record if "sensitive_features=" in str(w.message))


def test_fairness_score_with_s_twice_or_not_at_all_is_a_type_error():
    y, s, scores = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]), np.linspace(0, 1, 4)
    with pytest.raises(TypeError, match="both sensitive_features and s"):
        tuning.fairness_score(y, scores, s, sensitive_features=s)
    with pytest.raises(TypeError, match="sensitive_features=None"):
        tuning.fairness_score(y, scores)


def test_hypermodel_declares_the_papers_space():
    hp = kt.HyperParameters()
    tuning.SQNNHyperModel(10).declare_hyperparameters(hp)
    space = {h.name: h.get_config() for h in hp.space}
    assert (space["gamma"]["min_value"], space["gamma"]["max_value"]) == (1e-3, 1.0)
    assert space["gamma"]["sampling"] == "log"
    assert (space["n_hidden"]["min_value"], space["n_hidden"]["max_value"]) == (1, 5)
    assert (space["hidden_size"]["min_value"], space["hidden_size"]["max_value"]) == (10, 50)
    assert set(space["estimator"]["values"]) == {"bernoulli", "joint"}
    assert {"hybrid", "stochastic_position", "batch_size"} <= set(space)
    with pytest.raises(ValueError, match="estimators"):
        tuning.SQNNHyperModel(10, estimators=("mine",))


def test_search_maximises_the_objective(tmp_path):
    tuner = make_tuner(tmp_path, 3)
    tuner.search(synthetic_folds())
    trials = [t for t in tuner.oracle.trials.values() if t.score is not None]
    assert len(trials) == 3
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == max(t.score for t in trials)
    assert tuner.oracle.objective.direction == "max"
    # The objective is the mean over the folds of AUC + (1 - GPA) + (1 - AUDC): in [0, 3].
    assert 0 < best.score <= 3


def test_existing_search_is_never_reloaded_silently(tmp_path):
    make_tuner(tmp_path, 1).search(synthetic_folds())
    with pytest.raises(FileExistsError, match="resume=True"):
        make_tuner(tmp_path, 1)
    hypermodel = tuning.SQNNHyperModel(6, epochs=2, seed=0)  # another protocol
    with pytest.raises(ValueError, match="refusing to resume"):
        tuning.FairnessTuner(
            hypermodel,
            directory=tmp_path,
            max_trials=1,
            resume=True,
            fingerprint={"data": "synthetic"},
        )
    fresh = make_tuner(tmp_path, 1, overwrite=True)
    assert len(fresh.oracle.trials) == 0


def test_search_killed_mid_trial_resumes_without_losing_finished_trials(tmp_path):
    killed = _run_script(tmp_path, 3, env={"KILL_DURING_TRIAL": "2"})
    assert killed.returncode == -9  # SIGKILL, in the middle of the second trial
    first = json.loads(next(tmp_path.glob("search/trial_*/trial.json")).read_text())
    assert first["status"] == "COMPLETED"
    finished = _run_script(tmp_path, 3, "--resume")
    assert finished.returncode == 0, finished.stderr[-2000:]
    trials = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("search/trial_*/trial.json"))]
    assert [t["status"] for t in trials] == ["COMPLETED"] * 3
    kept = next(t for t in trials if t["trial_id"] == first["trial_id"])
    assert kept["score"] == first["score"]


def _finished_search_left_by_a_distributed_chief(directory, max_trials=2):
    """A finished search whose oracle.json lists its last trial as ongoing; its trial ids.

    KerasTuner's distributed chief saves oracle.json before it drops a finished trial from
    its ongoing trials, and the workers never save it: a finished search is stored so,
    with the chief's tuner file (chief.json), which a chief reloads from.
    """
    make_tuner(directory, max_trials).search(synthetic_folds())
    project = directory / "search"
    (project / "chief.json").write_text((project / "tuner0.json").read_text())
    oracle = project / "oracle.json"
    state = json.loads(oracle.read_text())
    ids = sorted(json.loads(p.read_text())["trial_id"] for p in _trial_files(directory))
    state["ongoing_trials"] = {"tuner1": ids[-1]}
    oracle.write_text(json.dumps(state))
    for ran in directory.glob("ran-*"):
        ran.unlink()
    return ids


def _trial_files(directory):
    return sorted(directory.glob("search/trial_*/trial.json"))


def _stored(directory):
    """Every file of the stored trials and the oracle, with its mtime and content."""
    paths = [*directory.glob("search/trial_*/*"), directory / "search" / "oracle.json"]
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in paths}


def test_a_finished_search_is_skipped_by_a_distributed_chief_and_its_workers(tmp_path, monkeypatch):
    from keras_tuner.src.distribute import oracle_chief, oracle_client

    _finished_search_left_by_a_distributed_chief(tmp_path)
    stored = _stored(tmp_path)
    best = make_tuner(tmp_path, 2, resume=True).oracle.get_best_trials(1)[0]
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(free_port()))
    monkeypatch.setattr(oracle_chief, "start_server", lambda oracle: pytest.fail("served"))
    monkeypatch.setattr(
        oracle_client.OracleClient, "create_trial", lambda *a: pytest.fail("asked the chief")
    )
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    chief = make_tuner(tmp_path, 2, resume=True)
    chief.search(synthetic_folds())
    kept = chief.oracle.get_best_trials(1)[0]
    assert (kept.trial_id, kept.score) == (best.trial_id, best.score)
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    make_tuner(tmp_path, 2, resume=True).search(synthetic_folds())
    assert _stored(tmp_path) == stored and not list(tmp_path.glob("ran-*"))


def _as_worker_of_a_chief_not_serving(monkeypatch):
    """Make this process a worker; its chief's port; asking the chief raises ConnectionError.

    A worker waits 30 s at most for its chief (a regression fails, not hang for an hour).
    """
    from keras_tuner.src.distribute import oracle_client

    port = free_port()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    monkeypatch.setattr(distributed_search, "CHIEF_TIMEOUT", 30.0)

    def ask_the_chief(*args):
        raise ConnectionError("asked the chief")

    monkeypatch.setattr(oracle_client.OracleClient, "create_trial", ask_the_chief)
    return port


def _after(seconds, action):
    """Run ``action`` in a thread ``seconds`` from now."""

    def run():
        time.sleep(seconds)
        action()

    threading.Thread(target=run, daemon=True).start()


def test_a_worker_joins_the_search_its_chief_starts_over(tmp_path, monkeypatch):
    # The chief deletes a stored finished search only once it builds its own tuner, which
    # may be after the workers looked: a worker told to overwrite must not skip it, not
    # even while the chief deletes it (oracle.json first, the finished trials still
    # there), but wait for the chief to serve the new search, then ask it for a trial.
    _finished_search_left_by_a_distributed_chief(tmp_path)

    def trials():
        return {p: p.read_bytes() for p in tmp_path.glob("search/trial_*/*")}

    stored = trials()
    port = _as_worker_of_a_chief_not_serving(monkeypatch)
    worker = make_tuner(tmp_path, 2, overwrite=True)
    servers = []
    started = time.monotonic()
    _after(1.5, (tmp_path / "search" / "oracle.json").unlink)
    _after(3.5, lambda: servers.append(socket.create_server(("127.0.0.1", port))))
    try:
        with pytest.raises(ConnectionError, match="asked the chief"):
            worker.search(synthetic_folds())
        assert time.monotonic() - started >= 3.5  # it asked only once the chief served
    finally:
        for server in servers:
            server.close()
    assert trials() == stored  # a worker deletes nothing


def test_a_worker_told_to_overwrite_skips_the_search_once_its_chief_stored_it_anew(
    tmp_path, monkeypatch
):
    # The chief started the search over and its other workers finished it before this
    # worker reached the port: the chief saved oracle.json since this worker looked.
    _finished_search_left_by_a_distributed_chief(tmp_path)
    _as_worker_of_a_chief_not_serving(monkeypatch)
    worker = make_tuner(tmp_path, 2, overwrite=True)
    oracle = tmp_path / "search" / "oracle.json"
    started = time.monotonic()
    _after(1.5, lambda: oracle.write_text(oracle.read_text()))
    worker.search(synthetic_folds())  # asking the chief would raise
    assert time.monotonic() - started >= 1.5 and not list(tmp_path.glob("ran-*"))


def test_a_waiting_worker_skips_a_search_its_chief_ended_before_it_could_ask(tmp_path, monkeypatch):
    # The race CI met: the chief served a search, its other workers ran every trial and
    # the chief ended it while this worker was still on its way (KerasTuner's client would
    # have waited an hour on a port nobody serves any more).
    _finished_search_left_by_a_distributed_chief(tmp_path / "ended")
    _as_worker_of_a_chief_not_serving(monkeypatch)
    worker = make_tuner(tmp_path / "late", 2, resume=True)
    started = time.monotonic()
    _after(1.5, lambda: shutil.copytree(tmp_path / "ended", tmp_path / "late", dirs_exist_ok=True))
    worker.search(synthetic_folds())  # asking the chief would raise
    assert time.monotonic() - started >= 1.5
    assert not list((tmp_path / "late").glob("ran-*"))


def test_the_chief_is_who_kerastuner_says_it_is(monkeypatch):
    from keras_tuner.src.distribute import utils

    assert not distributed_search.is_worker()  # not distributed
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "5000")
    for tuner_id, chief in (("chief", True), ("chief0", True), ("tuner0", False)):
        monkeypatch.setenv("KERASTUNER_TUNER_ID", tuner_id)
        assert distributed_search.is_worker() is not chief
        assert utils.is_chief_oracle() is chief


def test_a_worker_whose_chief_never_serves_says_so(tmp_path, monkeypatch):
    port = _as_worker_of_a_chief_not_serving(monkeypatch)
    monkeypatch.setattr(distributed_search, "CHIEF_TIMEOUT", 0.5)
    with pytest.raises(TimeoutError, match=f"No chief served .* at 127.0.0.1:{port} for 0.5 s"):
        make_tuner(tmp_path, 2).search(synthetic_folds())


def test_resuming_never_reruns_a_finished_trial_listed_as_ongoing(tmp_path):
    ids = _finished_search_left_by_a_distributed_chief(tmp_path)
    stored = _stored(tmp_path)
    resumed = make_tuner(tmp_path, 2, resume=True)
    assert resumed.oracle._retry_queue == []
    resumed.search(synthetic_folds())
    assert _stored(tmp_path) == stored and not list(tmp_path.glob("ran-*"))
    # With a larger budget only the new trial runs; the finished ones are kept as they are.
    more = make_tuner(tmp_path, 3, resume=True)
    more.search(synthetic_folds())
    assert sorted(p.name for p in tmp_path.glob("ran-*")) == ["ran-tuner0-2"]
    trials = {p: v for p, v in stored.items() if p.name != "oracle.json"}
    assert {p: _stored(tmp_path)[p] for p in trials} == trials
    assert [more.oracle.trials[i].status for i in ids] == ["COMPLETED"] * 2


def test_resuming_reruns_a_trial_stored_as_running(tmp_path):
    ids = _finished_search_left_by_a_distributed_chief(tmp_path)
    last = tmp_path / "search" / f"trial_{ids[-1]}" / "trial.json"
    trial = json.loads(last.read_text())
    last.write_text(json.dumps({**trial, "status": "RUNNING"}))  # killed mid-trial
    assert make_tuner(tmp_path, 2, resume=True).oracle._retry_queue == [ids[-1]]


def test_a_stored_search_is_finished_when_all_its_trials_are_done(tmp_path):
    def store(trial_id, text):
        folder = tmp_path / f"trial_{trial_id}"
        folder.mkdir(exist_ok=True)
        (folder / "trial.json").write_text(text)

    finished = distributed_search.stored_search_finished
    assert not finished(tmp_path, 1)  # nothing stored
    store(0, json.dumps({"trial_id": "0", "status": "COMPLETED"}))
    assert finished(tmp_path, 1) and not finished(tmp_path, 2)  # fewer than max_trials
    store(1, json.dumps({"trial_id": "1", "status": "RUNNING"}))
    assert not finished(tmp_path, 2)
    store(1, json.dumps({"trial_id": "1", "status": "INVALID"}))  # to be retried
    assert not finished(tmp_path, 2)
    store(1, '{"trial_id": "1", "sta')  # being written
    assert not finished(tmp_path, 2)
    store(1, "[]")
    assert not finished(tmp_path, 2)
    store(1, json.dumps({"trial_id": "1", "status": "FAILED"}))
    assert finished(tmp_path, 2) and finished(tmp_path, 1)


@pytest.mark.slow
def test_chief_and_two_workers_finish_a_search_together(tmp_path):
    run_chief_and_workers("tests.tuning.search_script", tmp_path, 4)
    trials = [json.loads(p.read_text()) for p in tmp_path.glob("search/trial_*/trial.json")]
    assert len(trials) == 4 and all(t["status"] == "COMPLETED" for t in trials)
    # The trials were shared: each worker ran at least one, the chief none.
    workers = {p.name.split("-")[1] for p in tmp_path.glob("ran-*")}
    assert workers == {"tuner0", "tuner1"}


def test_get_best_models_returns_the_best_trials_trained_models(tmp_path):
    folds = synthetic_folds()
    tuner = make_tuner(tmp_path, 2)
    tuner.search(folds)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    (model,) = tuner.get_best_models(1)
    # The best trial's architecture, trained on the first fold (not a freshly built one).
    best = tuner.get_best_hyperparameters(1)[0]
    assert len(model.stack) == best.values["n_hidden"] + 1
    fold = folds[0]
    scores = model.predict(fold.x_test, verbose=0).ravel()
    stored = tuning.fairness_score(fold.y_test, scores, sensitive_features=fold.s_test)[
        "fairness_score"
    ]
    fresh = tuner.hypermodel.build(best, input_dim=fold.x_train.shape[1])
    fresh_scores = fresh.predict(fold.x_test, verbose=0).ravel()
    assert not np.allclose(scores, fresh_scores)
    assert 0 < stored <= 3 and best_trial.score is not None


def test_get_best_models_of_a_trial_without_a_stored_model_says_what_to_do(tmp_path):
    tuner = make_tuner(tmp_path, 1)
    tuner.search(synthetic_folds())
    trial = tuner.oracle.get_best_trials(1)[0]
    os.remove(os.path.join(tuner.get_trial_dir(trial.trial_id), "model.keras"))
    with pytest.raises(FileNotFoundError, match="get_best_hyperparameters"):
        tuner.get_best_models(1)


def _batches_per_epoch(hypermodel, hp, data, **fit_kwargs):
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(1))
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, *data, epochs=1, verbose=0, callbacks=[counter], **fit_kwargs)
    return len(steps)


def test_hypermodel_fit_uses_the_trials_batch_size(tmp_path):
    fold = synthetic_folds(n=500)[0]  # 250 training rows
    data = ({"features": fold.x_train, "sensitive": fold.s_train}, fold.y_train.astype("float32"))
    hypermodel = tuning.SQNNHyperModel(6, epochs=1, seed=0)
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values["batch_size"] = 100
    assert _batches_per_epoch(hypermodel, hp, data) == 3  # ceil(250 / 100), not 250 / 32
    hp.values["batch_size"] = 250
    assert _batches_per_epoch(hypermodel, hp, data) == 1
    with pytest.raises(TypeError, match="batch_size"):
        _batches_per_epoch(hypermodel, hp, data, batch_size=32)
    # A stock KerasTuner tuner trains with the batch size it chose, through HyperModel.fit.
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(1))
    tuner = kt.RandomSearch(
        hypermodel, objective="loss", max_trials=1, directory=tmp_path, project_name="stock"
    )
    tuner.search(*data, callbacks=[counter], verbose=0)
    chosen = tuner.get_best_hyperparameters(1)[0].values["batch_size"]
    assert len(steps) == -(-250 // chosen)
