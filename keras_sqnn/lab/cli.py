"""The ``keras-sqnn`` command line: the main job and the experiments."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from keras_sqnn.lab.cli_parser import MNIST_METHODS as MNIST_METHODS
from keras_sqnn.lab.cli_parser import MNIST_PAPER_METHODS as MNIST_PAPER_METHODS
from keras_sqnn.lab.cli_parser import SWEEP_GRIDS
from keras_sqnn.lab.cli_parser import parser as _parser


def _run_compare(args: argparse.Namespace, methods: list[str], gammas: Any = None) -> Any:
    from keras_sqnn import datasets
    from keras_sqnn.datasets import nested_folds
    from keras_sqnn.lab.experiments import compare

    dataset = datasets.load(args.dataset)
    outer = nested_folds(dataset.y, dataset.s, n_outer=3, seed=args.seed)[: args.folds]
    return compare(
        methods,
        dataset,
        folds=[(fold.train, fold.test) for fold in outer],
        gammas=gammas,
        budget=args.budget,
        seed=args.seed,
        epochs=args.epochs,
        probe_trees=100 if args.budget == "small" else 1000,
        verbose=True,
    )


def check_writable(out: str, option: str = "--out") -> None:
    """Create ``out`` if missing and check a file can be written there, before any work.

    Raises:
        SystemExit: naming the ``option`` and the path, with the operating system's reason.
    """
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise SystemExit(
            f"keras-sqnn: error: {option} {out!r} is not a writable folder "
            f"({error.strerror or error}); choose another {option} before training."
        ) from error


def _results_dir(out: str, name: str) -> Path:
    """``out/name``, created if missing."""
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _summary_frame(table: Any) -> Any:
    """One row per (method, parameter): the means over folds, for the figures."""
    from keras_sqnn.lab.experiments import summarize

    return summarize(table).xs("mean", axis=1, level=1).reset_index()


def compare_command(args: argparse.Namespace) -> Any:
    """Write results/<dataset>/compare.csv, compare_summary.csv and compare.png.

    With ``--tuned DIR``: draw Figures 2 and 4 of every ``DIR/tuned_<dataset>.csv``
    into ``--out`` and print the paper's target cells instead.
    """
    from keras_sqnn.lab.experiments import summarize
    from keras_sqnn.lab.plots import tradeoff_figure

    if args.tuned is not None:
        return _tuned_figures(args)
    table = _run_compare(args, args.methods)
    out = _results_dir(args.out, args.dataset)
    table.to_csv(out / "compare.csv", index=False)
    summary = summarize(table, text=True)
    summary.to_csv(out / "compare_summary.csv")
    tradeoff_figure(
        _summary_frame(table),
        out / "compare.png",
        pairs=[("gpa", "1 - GPA", "unfairness"), ("audc", "1 - AUDC", "unfairness")],
        title=f"{args.dataset}: AUC against fairness (mean over {args.folds} outer folds)",
    )
    print(summary.to_string())
    print(f"[keras-sqnn] wrote {out / 'compare.csv'}, compare_summary.csv, compare.png")
    return table


def _tuned_figures(args: argparse.Namespace) -> Any:
    from keras_sqnn.lab.experiments.tuned_report import tuned_figures, tuned_report

    check_writable(args.out)
    experiment = {"selection": args.tuned_selection, "budget": args.tuned_budget}
    report = tuned_report(args.tuned, **experiment)
    for cell in report.cells:
        print(
            f"[keras-sqnn] {cell.dataset} {cell.plane}: {cell.status}; best {cell.best_method} "
            f"{cell.best_distance:.3f}, best SQNN {cell.best_sqnn} {cell.best_sqnn_distance:.3f}"
        )
    paths = tuned_figures(args.tuned, args.out, **experiment)
    print("[keras-sqnn] wrote " + ", ".join(str(path) for path in paths))
    return report


def sweep_command(args: argparse.Namespace) -> Any:
    """Write results/<dataset>/sweep.csv, sweep_correlations.csv and sweep.png."""
    import pandas as pd

    from keras_sqnn.lab.plots import sweep_figure

    unknown = set(args.methods) - set(SWEEP_GRIDS)
    if unknown:
        raise SystemExit(f"sweep: no grid for {sorted(unknown)}; choose from {sorted(SWEEP_GRIDS)}")
    table = _run_compare(args, args.methods, {m: list(SWEEP_GRIDS[m]) for m in args.methods})
    out = _results_dir(args.out, args.dataset)
    table.to_csv(out / "sweep.csv", index=False)
    rows = []
    for method, group in table.groupby("method", sort=False):
        rows.append(
            {
                "method": method,
                "pearson_gamma_1_minus_gpa": float(
                    np.corrcoef(group["param"], 1 - group["gpa"])[0, 1]
                ),
                "pearson_gamma_auc": float(np.corrcoef(group["param"], group["auc"])[0, 1]),
                "points": len(group),
            }
        )
    correlations = pd.DataFrame(rows)
    correlations.to_csv(out / "sweep_correlations.csv", index=False)
    sweep_figure(table, out / "sweep.png", title=f"{args.dataset}: 1 - GPA and AUC against gamma")
    print(correlations.to_string(index=False))
    print(f"[keras-sqnn] wrote {out / 'sweep.csv'}, sweep_correlations.csv, sweep.png")
    return correlations


def representation_command(args: argparse.Namespace) -> Any:
    """Write results/<dataset>/representation.csv and representation.png (Figure 4)."""
    from keras_sqnn.lab.experiments import summarize
    from keras_sqnn.lab.plots import tradeoff_figure

    table = _run_compare(args, args.methods)
    out = _results_dir(args.out, args.dataset)
    table.to_csv(out / "representation.csv", index=False)
    tradeoff_figure(
        _summary_frame(table),
        out / "representation.png",
        pairs=[("adrg", "1 - RF ADRG", "unfairness"), ("probe_auc_y", "RF AUC (Y)", "score")],
        title=f"{args.dataset}: random-forest probes of the representations",
    )
    summary = summarize(table, text=True)[["auc", "adrg", "probe_auc_s", "probe_auc_y"]]
    print(summary.to_string())
    print(f"[keras-sqnn] wrote {out / 'representation.csv'}, representation.png")
    return table


def biased_mnist(args: argparse.Namespace) -> Any:
    """Run Table 1; append each (method, rho, seed) to <out>/biased_mnist.csv, skip done ones."""
    import pandas as pd

    from keras_sqnn.lab.experiments.biased_mnist import run_biased_mnist

    run_biased_mnist(
        args.rho,
        methods=args.methods,
        seeds=args.seeds,
        budget=args.budget,
        gamma=args.gamma,
        layer=args.layer,
        out=args.out,
        train_images=args.train_images,
        epochs=args.epochs,
        verbose=args.verbose,
    )
    path = Path(args.out) / "biased_mnist.csv"
    table = pd.read_csv(path)
    print(table.to_string(index=False))
    print(f"[keras-sqnn] wrote {path}")
    return table


def tuning_budget(args: argparse.Namespace) -> Any:
    """The ``--budget`` with the overrides, each of which renames it.

    ``--max-trials 20`` makes ``cpu_trials20``, ``--epochs 5`` ``cpu_epochs5``,
    ``--probe-trees 100`` ``cpu_probe100`` (combined in that order): the searches live
    under the budget's name and the CSV's rows are keyed by it, so a fold tuned with one
    setting is never skipped, resumed or averaged as if it had another.
    """
    import dataclasses

    from keras_sqnn.lab.experiments.method_search import TUNING_BUDGETS
    from keras_sqnn.lab.experiments.tuned_schema import budget_name

    budget = TUNING_BUDGETS[args.budget]
    return dataclasses.replace(
        budget,
        name=budget_name(
            budget.name, trials=args.max_trials, epochs=args.epochs, probe_trees=args.probe_trees
        ),
        trials=budget.trials if args.max_trials is None else args.max_trials,
        epochs=budget.epochs if args.epochs is None else args.epochs,
        probe_trees=budget.probe_trees if args.probe_trees is None else args.probe_trees,
    )


def tune(args: argparse.Namespace) -> Any:
    """Tune each --method on each outer fold; append <out>/tuned_<dataset>.csv.

    In KerasTuner's distributed mode run the same command in the chief and in every worker:
    the workers never read the CSV and never delete a search, and each search is
    served on its own port (:func:`keras_sqnn.lab.experiments.tuned.oracle_port_offset`).
    """
    import time

    import pandas as pd

    from keras_sqnn import datasets
    from keras_sqnn.lab.experiments.tuned import tune_method

    if args.resume and args.overwrite:
        raise SystemExit("keras-sqnn tune: error: choose --resume or --overwrite, not both")
    budget = tuning_budget(args)
    dataset = datasets.load(args.dataset)
    # The auc_floor rule's reference is the tuned vanilla network: tune it first.
    methods = sorted(dict.fromkeys(args.method), key=lambda method: method != "vanilla")
    started = time.perf_counter()
    tables = []
    for method in methods:
        tables.append(
            tune_method(
                dataset,
                method,
                out=args.out,
                searches=args.searches,
                budget=budget,
                outer_folds=args.outer_folds,
                selection=args.selection,
                resume=not args.overwrite,
                seed=args.seed,
                verbose=args.verbose,
            )
        )
        print(
            f"[keras-sqnn] {args.dataset} {method}: done, "
            f"{time.perf_counter() - started:.1f} s elapsed",
            flush=True,
        )
    table = pd.concat(tables, ignore_index=True)
    columns = ["method", "fold", "selection", "trials", "auc", "gpa", "audc", "tradeoff_gpa"]
    print(table[[*columns, "tradeoff_audc"]].to_string(index=False))
    print(f"[keras-sqnn] wrote {Path(args.out) / f'tuned_{args.dataset}.csv'}")
    return table


def train(args: argparse.Namespace) -> dict[str, Any]:
    """The main job: :func:`keras_sqnn.lab.experiments.main_job.train`."""
    from keras_sqnn.lab.experiments.main_job import train as train_job

    return train_job(
        args.dataset,
        estimator=args.estimator,
        budget=args.budget,
        epochs=args.epochs,
        gamma=args.gamma,
        seed=args.seed,
        out=args.out,
        name=args.name,
        probe_trees=args.probe_trees,
        verbose=args.verbose,
    )


def certify_command(args: argparse.Namespace) -> Any:
    """Run :func:`keras_sqnn.lab.experiments.certified.run_certified` and print the selection."""
    from keras_sqnn.lab.experiments import certified, certified_report

    path = certified.run_certified(
        args.dataset,
        units=args.units or certified.UNITS,
        gammas=args.gammas or certified.GAMMAS,
        sharpness=args.sharpness or certified.SHARPNESS,
        epochs=args.epochs,
        cells=args.cells,
        seed=args.seed,
        out=args.out,
        verbose=args.verbose,
    )
    print(certified_report.report(path, args.dataset))
    print(f"[keras-sqnn] wrote {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``keras-sqnn`` console script."""
    args = _parser().parse_args(argv)
    check_writable(args.out)
    if args.command == "tune":
        check_writable(args.searches, "--searches")
    commands = {
        "train": train,
        "tune": tune,
        "biased-mnist": biased_mnist,
        "compare": compare_command,
        "sweep": sweep_command,
        "representation": representation_command,
        "certify": certify_command,
    }
    commands[args.command](args)
    return 0
