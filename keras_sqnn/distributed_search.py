"""How the chief and the workers of KerasTuner's distributed mode meet on each search.

:class:`keras_sqnn.tuning.FairnessTuner` uses KerasTuner's own distributed mode: start the
same program once with ``KERASTUNER_TUNER_ID=chief`` and once per worker with
``KERASTUNER_TUNER_ID=tuner0``, ``tuner1``..., all with ``KERASTUNER_ORACLE_IP`` /
``KERASTUNER_ORACLE_PORT`` pointing at the chief; the chief runs the oracle and the workers
run trials. A program that runs several searches one after the other gives each its own
port, ``KERASTUNER_ORACLE_PORT + port_offset`` (``FairnessTuner``'s argument;
:func:`keras_sqnn.tuning.nested_search` serves outer fold k on offset k), so a worker that
is late for one search is never handed the trials of the next. The offset depends on what
the search is, never on how many searches a process has run, so a worker that starts late,
or skips work, still meets each search on its own port. The chief and the workers run the
same searches in the same order; a worker never deletes a stored search (``overwrite`` is
the chief's). A finished search is skipped by the chief and the workers alike, each reading
the stored trials, so none of them serves or waits for the others; with ``overwrite=True``
the workers join the search that the chief starts over instead. A worker asks for its first
trial only once the chief serves the search, and skips it if it is stored finished first
(the chief ends a search once the workers that reached it are done).

KerasTuner workarounds, all in this module (written against KerasTuner 1.4.8; the project
pins ``keras-tuner==1.4.*``). Each relies on behaviour that KerasTuner does not document as
public API; check them when KerasTuner is upgraded:

1. **One port per search** (:func:`oracle_port`): KerasTuner has no argument for the
   oracle's port; it reads the environment variable ``KERASTUNER_ORACLE_PORT`` when a
   worker's tuner is made (``OracleClient.__init__``) and when the chief's ``search``
   starts its server (``oracle_chief.start_server``). The variable is rewritten around
   those two calls. Why: with one port for all of a program's searches, a worker still in
   search k would be handed the trials of search k + 1.
2. **Who the chief is** (:func:`is_worker`): the same test as KerasTuner's private
   ``keras_tuner.src.distribute.utils.is_chief_oracle`` (``"chief"`` in
   ``KERASTUNER_TUNER_ID``), which is not exported. ``tests/tuning`` checks that the two
   agree.
3. **A worker never deletes the search**: ``BaseTuner.__init__`` deletes the project
   folder on ``overwrite=True`` in every process, chief or worker, though they share it;
   ``FairnessTuner`` passes ``overwrite`` to KerasTuner in the chief only.
4. **A finished search read from the trial files** (:func:`stored_search_finished`): relies
   on KerasTuner's storage layout, one ``trial_*/trial.json`` per trial with its
   ``status``, where ``COMPLETED`` and ``FAILED`` trials are never run again. Why: the
   chief's server exits once the workers it has heard from are done
   (``oracle_chief.exit_chief``) and stores nothing about which; a worker that reaches a
   finished search would wait for an hour (``oracle_client.TIMEOUT``) on a port nobody
   serves.
5. **Waiting for the chief** (:func:`wait_for_chief`): instead of letting KerasTuner's
   ``OracleClient`` ask at once with gRPC's ``wait_for_ready`` (reconnect backoff of seconds
   to minutes between attempts, for up to an hour), a worker polls the chief's TCP port and
   the stored trials every second. Relies on the chief's ``BaseTuner.search`` saving
   ``oracle.json`` just before it starts to serve, to tell a search the chief has started
   over from the finished one stored before it.
6. **The retry queue after a reload** (:func:`forget_finished_retries`): edits the private
   ``Oracle._retry_queue``. ``Oracle.reload`` queues for a retry every trial that
   ``oracle.json`` lists as ongoing, but in distributed mode the chief's
   ``Oracle.end_trial`` saves ``oracle.json`` before it removes the trial from
   ``ongoing_trials``, and a worker never saves it, so a search is stored with its last
   trials still listed as ongoing although they completed: a resume would run them again.

Example:
    >>> stored_search_finished("/nonexistent/search", max_trials=1)
    False
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "CHIEF_TIMEOUT",
    "forget_finished_retries",
    "is_distributed",
    "is_worker",
    "oracle_port",
    "oracle_saved_at",
    "stored_search_finished",
    "wait_for_chief",
]

# Seconds a worker waits for its chief to serve a search (KerasTuner's client waits as long).
CHIEF_TIMEOUT = 3600.0
# Statuses of a trial that KerasTuner never runs again.
_DONE = ("COMPLETED", "FAILED")
_ORACLE_FILE = "oracle.json"


def is_distributed() -> bool:
    """Whether this process takes part in KerasTuner's distributed mode (chief or worker)."""
    return "KERASTUNER_ORACLE_IP" in os.environ


def is_worker() -> bool:
    """Whether this process is a worker of KerasTuner's distributed mode (not the chief).

    As KerasTuner decides: a process whose ``KERASTUNER_TUNER_ID`` contains ``"chief"`` is
    the chief.
    """
    return is_distributed() and "chief" not in os.environ.get("KERASTUNER_TUNER_ID", "")


@contextlib.contextmanager
def oracle_port(offset: int) -> Iterator[None]:
    """Within the block, ``KERASTUNER_ORACLE_PORT`` (if set) is moved up by ``offset``.

    KerasTuner reads the port when a worker's tuner is made and when the chief's search
    starts its server.
    """
    base = os.environ.get("KERASTUNER_ORACLE_PORT")
    if base is None or not offset:
        yield
        return
    os.environ["KERASTUNER_ORACLE_PORT"] = str(int(base) + offset)
    try:
        yield
    finally:
        os.environ["KERASTUNER_ORACLE_PORT"] = base


def stored_search_finished(project_dir: str | Path, max_trials: int) -> bool:
    """Whether ``project_dir`` stores at least ``max_trials`` trials, all completed or failed.

    Reads only the trials' ``trial_*/trial.json`` files, which the chief and the workers of
    a distributed search share, so they agree without contacting each other. A file that
    cannot be read or parsed (a trial being written) counts as not finished. A search that
    KerasTuner ends early because its space is exhausted never counts as finished (the
    spaces of :mod:`keras_sqnn.lab.experiments.spaces` all have continuous parameters).
    """
    paths = list(Path(project_dir).glob("trial_*/trial.json"))
    if len(paths) < max_trials:
        return False
    for path in paths:
        try:
            trial = json.loads(path.read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(trial, dict) or trial.get("status") not in _DONE:
            return False
    return True


def oracle_saved_at(project_dir: str | Path) -> int | None:
    """When the project's ``oracle.json`` was last saved (nanoseconds); None if it is not."""
    try:
        return (Path(project_dir) / _ORACLE_FILE).stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _serving(host: str, port: int) -> bool:
    """Whether a server accepts connections at ``host``:``port``."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_for_chief(
    project_dir: str | Path, max_trials: int, *, starts_over: bool, oracle_seen: int | None
) -> bool:
    """Wait until the chief serves this search (True) or it is stored finished (False).

    Call it in a worker, with ``KERASTUNER_ORACLE_PORT`` set to the search's port. KerasTuner's
    worker would ask the chief at once and wait with gRPC's reconnect backoff, seconds to
    minutes between attempts. A search the chief served and ended between two attempts
    (its other workers ran every trial) then left the worker waiting for an hour. With
    ``starts_over`` (the worker was told to overwrite), a finished search counts only once
    the chief has saved its oracle.json anew since the worker saw it at ``oracle_seen``
    (:func:`oracle_saved_at`; the chief saves it as it starts to serve, after deleting the
    search it starts over): the finished search stored before may be the one the chief is
    about to delete.

    Raises:
        TimeoutError: when nothing happens for :data:`CHIEF_TIMEOUT` seconds.
    """
    host, port = os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"])
    deadline = time.monotonic() + CHIEF_TIMEOUT
    while time.monotonic() < deadline:
        if _serving(host, port):
            return True
        # The oracle file first: while the chief deletes a search, the old finished
        # trials may still be there, its oracle.json already gone.
        saved = oracle_saved_at(project_dir)
        anew = saved is not None and saved != oracle_seen
        if (anew or not starts_over) and stored_search_finished(project_dir, max_trials):
            return False
        time.sleep(1.0)
    raise TimeoutError(
        f"No chief served the search {project_dir} at {host}:{port} for "
        f"{CHIEF_TIMEOUT:g} s. Start the chief (KERASTUNER_TUNER_ID=chief) with the "
        "same program and the same KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT."
    )


def forget_finished_retries(oracle: Any) -> None:
    """Drop from a just-reloaded oracle's retry queue the trials stored as completed or failed.

    KerasTuner's ``Oracle.reload`` queues for a retry every trial that oracle.json lists as
    ongoing. In distributed mode the chief's ``Oracle.end_trial`` saves oracle.json before
    it removes the trial from ``ongoing_trials``, and a worker never saves it, so a search
    is stored with its last trials still listed as ongoing although they completed: a
    resume would run them again. Only the trials not yet done stay queued (a trial stored
    as RUNNING, killed mid-trial, is still run again).
    """
    trials = oracle.trials
    oracle._retry_queue = [
        trial_id
        for trial_id in oracle._retry_queue
        if trial_id not in trials or trials[trial_id].status not in _DONE
    ]
