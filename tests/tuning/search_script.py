"""A tiny fairness search on synthetic folds, run as a separate process by the tuning tests.

    python -m tests.tuning.search_script DIRECTORY MAX_TRIALS [--resume|--overwrite]

With KILL_DURING_TRIAL=N in the environment the process SIGKILLs itself in the middle of its
N-th trial (counted in this process), as a crash would.
"""

import os
import signal
import sys
from types import SimpleNamespace

import numpy as np

from keras_sqnn import tuning


def synthetic_folds(n=240, features=6, seed=0):
    rng = np.random.default_rng(seed)
    folds = []
    for _ in range(2):
        s = rng.integers(0, 2, n).astype("int32")
        x = (rng.normal(size=(n, features)) + s[:, None]).astype("float32")
        y = ((x[:, 1] + rng.normal(size=n)) > 0.5).astype("int32")
        half = n // 2
        folds.append(
            SimpleNamespace(
                x_train=x[:half],
                y_train=y[:half],
                s_train=s[:half],
                x_test=x[half:],
                y_test=y[half:],
                s_test=s[half:],
            )
        )
    return folds


class KillingTuner(tuning.FairnessTuner):
    trials_started = 0

    def run_trial(self, trial, folds, verbose=0):
        KillingTuner.trials_started += 1
        worker = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        open(os.path.join(self.directory, f"ran-{worker}-{trial.trial_id}"), "w").close()
        if KillingTuner.trials_started == int(os.environ.get("KILL_DURING_TRIAL", "0")):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().run_trial(trial, folds, verbose=verbose)


def make_tuner(directory, max_trials, **kwargs):
    hypermodel = tuning.SQNNHyperModel(6, epochs=1, seed=0)
    return KillingTuner(
        hypermodel,
        directory=directory,
        max_trials=max_trials,
        seed=1,
        fingerprint={"data": "synthetic"},
        **kwargs,
    )


if __name__ == "__main__":
    directory, max_trials = sys.argv[1], int(sys.argv[2])
    flags = set(sys.argv[3:])
    tuner = make_tuner(
        directory, max_trials, resume="--resume" in flags, overwrite="--overwrite" in flags
    )
    tuner.search(synthetic_folds())
