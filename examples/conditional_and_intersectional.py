"""Independence I(T; S) vs separation I(T; S | Y) on COMPAS, and sex x race groups on Adult.

Three BinaryBernoulli SQNNs (the paper's Table 2 architectures, Adam at 1e-3 for a short
budget instead of the paper's 1e-4 over 100 epochs):

1. COMPAS, regularizer I(T; S) with S = race: the representation is pushed towards
   independence of race (demographic parity);
2. COMPAS, regularizer I(T; S | Y) (`condition_on="labels"`): T may carry race only
   through the label (separation, equalized odds), what GPA measures;
3. Adult, S = (sex, race) with `num_groups=(2, 5)`: the regularizer is I(T; S) of the
   intersection, and the metrics report the intersections, each attribute alone and the
   worst pair of intersections, next to the same network trained with gamma = 0.

.venv/bin/python examples/conditional_and_intersectional.py [--epochs 10] [--gamma 0.5]
"""

import argparse

import keras
import pandas as pd

from keras_sqnn import metrics
from keras_sqnn.classifiers import build_sqnn_classifier
from keras_sqnn.datasets import fetch_adult, fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.lab.experiments.paper import PAPER_HYPERPARAMETERS


def train(arrays, config, num_groups, seed):
    keras.utils.set_random_seed(seed)  # the same shuffling for every model
    model = build_sqnn_classifier(arrays.x_train.shape[1], config, num_groups=num_groups, seed=seed)
    model.fit(
        {"features": arrays.x_train, "sensitive": arrays.s_train},
        arrays.y_train.astype("float32"),
        batch_size=config.batch_size,
        epochs=config.epochs,
        verbose=0,
    )
    return model.predict(arrays.x_test, verbose=0).ravel()


def summary(name, y, scores, s):
    auc = metrics.auc(y, scores)
    gpa = metrics.gpa(y, scores, sensitive_features=s)
    audc = metrics.audc(y, scores, sensitive_features=s)
    distance = metrics.tradeoff_distance(auc, gpa)
    print(f"{name:<34} AUC {auc:.3f}  GPA {gpa:.3f}  AUDC {audc:.3f}  L1 to (1, 1) {distance:.3f}")


def group_name(attribute_names, group):
    """`"Female & Black"` for the intersection `(0, 2)` (a tuple of ids, one per attribute)."""
    return " & ".join(names[i] for names, i in zip(attribute_names, tuple(group), strict=True))


def per_group_table(y, scores, s, attribute_names):
    """GPA per intersection: its largest gap |A_{g>h} - A_{h>g}| against any other group."""
    if isinstance(scores, dict):  # several models: n once, then each model's gap and group
        tables = {
            name: per_group_table(y, each, s, attribute_names) for name, each in scores.items()
        }
        first = next(iter(tables.values()))
        columns = {"n": first["n"]}
        for name, table in tables.items():
            columns[f"gap {name}"] = table["worst_gap"]
            columns[f"against {name}"] = table["against"]
        return pd.DataFrame(columns).sort_values(f"gap {next(iter(tables))}", ascending=False)
    pairs = metrics.pairwise_accuracy_table(y, scores, sensitive_features=s)

    def name(group):
        return group_name(attribute_names, group)

    rows = []
    for column, other in (("group_a", "group_b"), ("group_b", "group_a")):
        for pair in pairs.itertuples():
            rows.append(
                {
                    "group": name(getattr(pair, column)),
                    "n": getattr(pair, "n_a" if column == "group_a" else "n_b"),
                    "worst_gap": pair.gap,
                    "against": name(getattr(pair, other)),
                }
            )
    table = pd.DataFrame(rows).sort_values("worst_gap", ascending=False)
    return table.drop_duplicates("group").set_index("group")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gamma", type=float, help="trade-off (default: the paper's, tuned)")
    args = parser.parse_args()
    budget = {"epochs": args.epochs, "learning_rate": 1e-3}
    if args.gamma is not None:
        budget["gamma"] = args.gamma

    compas = fetch_compas()
    fold = nested_folds(compas.y, compas.s, seed=args.seed)[0]
    arrays = train_test_arrays(compas, fold.train, fold.test)
    config = PAPER_HYPERPARAMETERS[("compas", "bernoulli")].replace(**budget)
    print(f"COMPAS, S = race, first outer fold: {len(arrays.y_test)} test rows")
    for condition_on, label in ((None, "I(T; S)"), ("labels", "I(T; S | Y)")):
        scores = train(arrays, config.replace(condition_on=condition_on), 2, args.seed)
        summary(f"BinaryBernoulli, {label}", arrays.y_test, scores, arrays.s_test)

    adult = fetch_adult(sensitive=("sex", "race"))
    arrays = train_test_arrays(adult)  # the official split
    config = PAPER_HYPERPARAMETERS[("adult", "bernoulli")].replace(**budget)
    print(
        f"\nAdult, S = {adult.sensitive_name}, num_groups={adult.group_counts}: "
        f"{len(arrays.y_test)} test rows"
    )
    y, s = arrays.y_test, arrays.s_test
    names = adult.attribute_group_names
    models = {}
    for gamma, label in ((config.gamma, f"gamma={config.gamma:g}"), (0.0, "gamma=0")):
        scores = train(arrays, config.replace(gamma=gamma), adult.group_counts, args.seed)
        models[label] = scores
        summary(f"BinaryBernoulli, I(T; sex x race), {label}", y, scores, s)
        for i, attribute in enumerate(adult.sensitive_names):
            print(
                f"  {attribute:<6} alone: "
                f"GPA {metrics.gpa(y, scores, sensitive_features=s[:, i]):.3f}"
                f"  AUDC {metrics.audc(y, scores, sensitive_features=s[:, i]):.3f}"
            )
        worst = metrics.worst_group_pair(y, scores, sensitive_features=s)
        print("  worst pair for GPA: " + " vs ".join(group_name(names, group) for group in worst))
    print("\nGPA per intersection (its largest gap against another intersection):")
    options = ("display.width", 200, "display.max_columns", None, "display.float_format")
    with pd.option_context(*options, "{:.3f}".format):
        print(per_group_table(y, models, s, names))


if __name__ == "__main__":
    main()
