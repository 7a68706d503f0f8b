"""A tiny tune_method run, started as chief and workers by the distributed tuning test.

    python -m tests.lab.experiments.tune_script OUT

Tunes fairlearn_eg with the auc_floor rule (a vanilla search, then fairlearn_eg's) on
outer fold 0 of the synthetic dataset, 2 trials each.
"""

import dataclasses
import sys

from keras_sqnn.lab.experiments.method_search import TUNING_BUDGETS
from keras_sqnn.lab.experiments.tuned import tune_method
from tests.lab.experiments.test_compare import synthetic_dataset

if __name__ == "__main__":
    out = sys.argv[1]
    budget = dataclasses.replace(
        TUNING_BUDGETS["cpu"], name="tiny", trials=2, epochs=1, probe_trees=10
    )
    tune_method(
        synthetic_dataset(),
        "fairlearn_eg",
        out=out,
        searches=f"{out}/s",
        budget=budget,
        outer_folds=[0],
    )
