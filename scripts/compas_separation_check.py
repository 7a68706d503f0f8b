"""COMPAS: does I(T; S | Y) lower GPA more than I(T; S) at the same gamma? A fixed network.

.venv/bin/python scripts/compas_separation_check.py

Writes docs/results/compas_separation_check.csv.

One network (the tuned BinaryBernoulli's COMPAS choice: 2 hidden layers of 12, the second
stochastic and regularised, hybrid), outer fold 0 of the tuned comparison's folds, Adam
1e-3, 10 epochs, batch 106, seed 0; each regularizer at each gamma. Test-fold AUC, GPA and
AUDC, and the exact joint I(T; S) and I(T; S | Y) in bits of the regularised layer's
code on the test fold (the batch mixture of its theta, 2**12 codes enumerated). Separation
(I(T; S | Y) = 0) implies GPA = 0 for a score computed from a sampled code T, which is
what the MI covers. The layer's default inference (``"expectation"``) scores from theta
itself, a deterministic function of x that the MI does not bound, so the last two columns
score the same model from one sampled code per example (``inference="sample"``). One row
per (regularizer, gamma) is appended as it finishes; a rerun skips the rows already there.
"""

import csv
from pathlib import Path

import keras

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.datasets import fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.information import conditional_mutual_information, exact_joint_mutual_information
from keras_sqnn.metrics import auc, audc, gpa, layer_probabilities

GAMMAS = (0.0, 0.5, 0.9, 0.99)
REGULARIZERS = {
    "I(T; S), per unit": ("bernoulli", None),
    "I(T; S | Y), per unit": ("bernoulli", "labels"),
    "I(T; S | Y), joint": ("joint", "labels"),
}
OUT = Path("docs/results/compas_separation_check.csv")
COLUMNS = [
    "regularizer",
    "gamma",
    "auc",
    "gpa",
    "audc",
    "mi_bits",  # I(T; S)
    "conditional_mi_bits",  # I(T; S | Y)
    "auc_sampled",  # scored from one sampled code per example
    "gpa_sampled",
]


def main() -> None:
    dataset = fetch_compas()
    fold = nested_folds(dataset.y, dataset.s, n_outer=3, n_inner=3, seed=0)[0]
    arrays = train_test_arrays(dataset, fold.train, fold.test)
    done = set()
    if OUT.exists():
        with open(OUT, newline="") as f:
            done = {(row["regularizer"], float(row["gamma"])) for row in csv.DictReader(f)}
    else:
        with open(OUT, "w", newline="") as f:
            csv.writer(f).writerow(COLUMNS)
    for name, (estimator, condition_on) in REGULARIZERS.items():
        for gamma in GAMMAS:
            if (name, gamma) in done:
                continue
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            config = SQNNConfig(
                gamma=gamma,
                estimator=estimator,
                condition_on=condition_on,
                n_hidden=2,
                hidden_size=12,
                stochastic_position=1,
                hybrid=True,
                learning_rate=1e-3,
            )
            model = build_sqnn_classifier(arrays.x_train.shape[1], config, num_groups=2, seed=0)
            model.fit(
                {"features": arrays.x_train, "sensitive": arrays.s_train},
                arrays.y_train,
                epochs=10,
                batch_size=106,
                verbose=0,
            )
            scores = model.predict(arrays.x_test, verbose=0).ravel()
            y, s = arrays.y_test, arrays.s_test
            theta = layer_probabilities(model, arrays.x_test, "representation")

            def estimate(ids, count, theta=theta):
                return float(exact_joint_mutual_information(theta, ids, count))

            conditional = conditional_mutual_information(estimate, s, y, 2, 2)
            model.get_layer("representation").inference = "sample"
            model.predict_function = None  # Traced again with the sampling layer.
            sampled = model.predict(arrays.x_test, verbose=0).ravel()
            row = [
                name,
                gamma,
                f"{auc(y, scores):.3f}",
                f"{gpa(y, scores, sensitive_features=s):.3f}",
                f"{audc(y, scores, sensitive_features=s):.3f}",
                f"{estimate(s, 2):.4f}",
                f"{conditional:.4f}",
                f"{auc(y, sampled):.3f}",
                f"{gpa(y, sampled, sensitive_features=s):.3f}",
            ]
            with open(OUT, "a", newline="") as f:
                csv.writer(f).writerow(row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
