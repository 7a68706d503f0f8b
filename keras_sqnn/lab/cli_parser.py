"""The ``keras-sqnn`` command line's arguments: one parser function per command.

:mod:`keras_sqnn.lab.cli` runs the commands; this module only declares them.
"""

from __future__ import annotations

import argparse
from typing import Any

DATASETS = ("adult", "compas", "banks")


def _at_least_one(text: str) -> int:
    """An ``argparse`` type: an integer >= 1 (KerasTuner reads 0 trials as "no limit")."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1. Received: {text}")
    return value


def parser() -> argparse.ArgumentParser:
    """The ``keras-sqnn`` parser, with one subcommand per experiment."""
    root = argparse.ArgumentParser(
        prog="keras-sqnn",
        description="Fair representations with stochastically quantized neural networks.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    _add_train_parser(commands)
    _add_tune_parser(commands)
    _add_figure_parsers(commands)
    _add_certify_parser(commands)
    _add_biased_mnist_parser(commands)
    return root


def _add_train_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train an SQNN with the paper's hyper-parameters, evaluate fairness, export it",
    )
    train.add_argument("--dataset", choices=DATASETS, default="adult")
    train.add_argument("--estimator", choices=("bernoulli", "joint"), default="bernoulli")
    train.add_argument(
        "--budget",
        choices=("small", "paper"),
        default="paper",
        help="paper: Table 2 settings (100 epochs); small: 10 epochs, for smoke runs",
    )
    train.add_argument("--epochs", type=int, default=None, help="override the epochs")
    train.add_argument("--gamma", type=float, default=None, help="override gamma")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="saved_models", help="folder for the exported model")
    train.add_argument("--name", default=None, help="model folder name (default: dataset)")
    train.add_argument("--probe-trees", type=int, default=200, help="trees of the ADRG probe")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))


def _add_tune_parser(commands: Any) -> None:
    from keras_sqnn.lab.experiments.method_search import TUNING_BUDGETS
    from keras_sqnn.lab.experiments.spaces import SPACES, TUNED_METHODS
    from keras_sqnn.lab.experiments.tuned_schema import SELECTION_RULES

    cpu, paper = TUNING_BUDGETS["cpu"], TUNING_BUDGETS["paper"]
    tune = commands.add_parser(
        "tune",
        help="tune every method with the same nested Bayesian search (3 outer x 3 inner "
        "folds); one row per (method, outer fold) in <out>/tuned_<dataset>.csv",
        description="Tune each method with the paper's protocol: a Bayesian search (KerasTuner) "
        "of its space on the 3 inner folds of each of 3 outer folds, objective AUC + (1 - GPA) "
        "+ (1 - AUDC); select a trial, refit it on the outer training fold, score it on the "
        "outer test fold and append a row to <out>/tuned_<dataset>.csv, with a row of the "
        "constant predictor per fold. Searches are stored under --searches and resume: a "
        "rerun continues them and skips the rows already in the CSV. Distributed (KerasTuner's "
        "mode: KERASTUNER_TUNER_ID=chief, tuner0, tuner1, ..., KERASTUNER_ORACLE_IP, "
        "KERASTUNER_ORACLE_PORT): run the same command in each process; the workers never "
        "read the CSV and never delete a search (--overwrite is the chief's), a finished "
        "search is skipped by every process unless --overwrite, and each (method, outer "
        "fold) search is served on its own port, KERASTUNER_ORACLE_PORT + 3 i + k for a "
        "method's search of outer fold k (i: its index among the methods with a space) and "
        "+ 27 + 3 i + k for the vanilla reference search run for it.",
    )
    tune.add_argument("--dataset", choices=DATASETS, default="compas")
    tune.add_argument(
        "--method",
        nargs="+",
        choices=tuple(SPACES),
        default=list(TUNED_METHODS),
        metavar="M",
        help=f"methods to tune (default: {' '.join(TUNED_METHODS)}; also "
        "binary_bernoulli_conditional); vanilla runs first (auc_floor's reference)",
    )
    tune.add_argument(
        "--budget",
        choices=("cpu", "paper"),
        default="cpu",
        help=f"cpu: {cpu.trials} trials of {cpu.epochs} epochs per (method, outer fold), SQNNs "
        f"at Adam {cpu.learning_rate:g}, tuning on a stratified {cpu.n_inner_train:,}-row "
        "subsample of each inner training fold (Adult, Banks), about 90 minutes per dataset "
        f"on 2 CPU cores; paper: {paper.trials} trials of {paper.epochs} epochs, SQNNs at "
        f"{paper.learning_rate:g}, whole inner folds",
    )
    tune.add_argument(
        "--selection",
        choices=SELECTION_RULES,
        default=SELECTION_RULES[0],
        help="auc_floor: the best objective among trials within 0.05 inner AUC of the tuned "
        "vanilla network's best (default); objective: the paper's best objective",
    )
    tune.add_argument("--outer-folds", type=int, nargs="+", default=None, help="e.g. 0 1 2")
    tune.add_argument("--out", default="docs/results", help="folder of tuned_<dataset>.csv")
    tune.add_argument(
        "--searches", default="results/searches", help="folder of the stored searches"
    )
    tune.add_argument(
        "--resume", action="store_true", help="continue stored searches (the default)"
    )
    tune.add_argument(
        "--overwrite",
        action="store_true",
        help="start the methods' searches over and replace their rows",
    )
    _add_tune_budget_overrides(tune)
    tune.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the folds, searches, fits and probes; a column of the CSV, part of a "
        "row's key",
    )
    tune.add_argument("--verbose", type=int, default=1, choices=(0, 1))


def _add_tune_budget_overrides(tune: Any) -> None:
    """``tune``'s overrides of its budget; each one renames the budget it changes."""
    tune.add_argument(
        "--max-trials",
        type=_at_least_one,
        default=None,
        help="override the trials per (method, outer fold); like --epochs and --probe-trees "
        "it renames the budget (e.g. cpu_trials20), so its searches and rows are kept apart "
        "from the budget's own (rows of other trial counts are never averaged together)",
    )
    tune.add_argument(
        "--epochs",
        type=_at_least_one,
        default=None,
        help="override the epochs (renames the budget, e.g. cpu_epochs5)",
    )
    tune.add_argument(
        "--probe-trees",
        type=_at_least_one,
        default=None,
        help="override the probes' 1,000 trees (renames the budget, e.g. cpu_probe100)",
    )


def _add_figure_parsers(commands: Any) -> None:
    """``compare``, ``sweep`` and ``representation``: the untuned figures' commands."""
    from keras_sqnn.lab.experiments.tuned_schema import SELECTION_RULES

    experiments = {
        "compare": (
            "Figure 2: every method on the same folds; CSVs and a trade-off PNG",
            list(COMPARE_METHODS),
            3,
        ),
        "sweep": (
            "Figure 3: gamma sweep; Pearson correlation of gamma with 1-GPA and AUC",
            list(SWEEP_GRIDS),
            1,
        ),
        "representation": (
            "Figure 4: a random forest probes each method's representation",
            ["binary_bernoulli", "binary_mi", "adv_cls", "vfae"],
            3,
        ),
    }
    for name, (help_text, methods, folds) in experiments.items():
        experiment = commands.add_parser(name, help=help_text)
        experiment.add_argument("--dataset", choices=DATASETS, default="compas")
        experiment.add_argument("--methods", nargs="+", default=methods)
        experiment.add_argument("--budget", choices=("small", "paper"), default="small")
        experiment.add_argument("--folds", type=int, default=folds, help="outer folds (of 3)")
        experiment.add_argument("--epochs", type=int, default=None, help="override the epochs")
        experiment.add_argument("--seed", type=int, default=0)
        experiment.add_argument("--out", default="results", help="results folder")
    compare = commands.choices["compare"]
    compare.add_argument(
        "--tuned",
        default=None,
        metavar="DIR",
        help="draw Figures 2 and 4 from DIR/tuned_<dataset>.csv (written by `tune`) into "
        "--out instead of training",
    )
    compare.add_argument(
        "--tuned-selection",
        choices=SELECTION_RULES,
        default=SELECTION_RULES[0],
        help="with --tuned: report the rows of this selection rule",
    )
    compare.add_argument(
        "--tuned-budget",
        default=None,
        metavar="NAME",
        help="with --tuned: report the rows of this budget (e.g. cpu, cpu_trials20); needed "
        "when a CSV holds several",
    )


def _add_biased_mnist_parser(commands: Any) -> None:
    mnist = commands.add_parser(
        "biased-mnist",
        help="Table 1: colour-unbiased test accuracy of Vanilla, BinaryBernoulli, BinaryMI",
    )
    mnist.add_argument("--rho", type=float, nargs="+", default=[0.99, 0.995])
    mnist.add_argument(
        "--budget",
        choices=("cpu", "paper"),
        default="cpu",
        help="cpu: the protocol chosen for 2 CPU cores; paper: ReBias' 80 epochs (a GPU)",
    )
    mnist.add_argument(
        "--methods",
        nargs="+",
        choices=MNIST_METHODS,
        default=list(MNIST_PAPER_METHODS),
        help="binary_bernoulli_conditional: I(T; colour | digit), beyond the paper; "
        "reweighting, group_dro: bias-label baselines (--gamma is the weights' cap / the "
        "Group DRO step size)",
    )
    mnist.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    mnist.add_argument("--gamma", type=float, default=0.01, help="the SQNNs' trade-off")
    mnist.add_argument(
        "--layer", choices=("first", "last", "all"), default="first", help="SQNN binary blocks"
    )
    mnist.add_argument("--epochs", type=int, default=None, help="override the epochs")
    mnist.add_argument("--train-images", type=int, default=None, help="smoke runs only")
    mnist.add_argument(
        "--out", default="docs/results", help="folder of biased_mnist.csv (appended, resumable)"
    )
    mnist.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="fit's bar")


COMPARE_METHODS = ("binary_bernoulli", "binary_mi", "adv_cls", "vfae", "vanilla", "fairlearn_eg")
# keras_sqnn.lab.experiments.biased_mnist's PAPER_METHODS and METHODS, without importing Keras.
MNIST_PAPER_METHODS = ("vanilla", "binary_bernoulli", "binary_mi")
MNIST_METHODS = (
    *MNIST_PAPER_METHODS,
    "binary_bernoulli_conditional",
    "reweighting",
    "group_dro",
)
# Parameters swept per method: gamma for the SQNN and AdvCls (in [0, 1)), the MMD weight of
# the VFAE (its gamma, unbounded).
SWEEP_GRIDS = {
    "binary_bernoulli": (0.001, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9),
    "adv_cls": (0.001, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9),
    "vfae": (0.0, 1.0, 10.0, 30.0, 100.0, 300.0, 1000.0),
}


def _add_certify_parser(commands: Any) -> None:
    certify = commands.add_parser(
        "certify",
        help="accurate and certified: sweep code width and gamma, select on validation, "
        "certify on the test split",
    )
    certify.add_argument("--dataset", choices=("adult", "compas"), default="adult")
    certify.add_argument("--units", type=int, nargs="+", default=None, help="code widths")
    certify.add_argument("--gammas", type=float, nargs="+", default=None, help="trade-offs")
    certify.add_argument(
        "--sharpness", type=float, nargs="+", default=None, help="code-entropy penalties"
    )
    certify.add_argument("--epochs", type=int, default=15)
    certify.add_argument(
        "--cells",
        action="store_true",
        help="decide with the most accurate table of the code's cells, fitted on the "
        "training rows, instead of the trained head (method sqnn_cells)",
    )
    certify.add_argument("--seed", type=int, default=0)
    certify.add_argument(
        "--out", default="docs/results", help="folder of certified_<dataset>.csv (resumable)"
    )
    certify.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="fit's bar")
